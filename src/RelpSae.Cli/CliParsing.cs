using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Cli;

/// <summary>Option values → library values, each with a one-line error naming the option.</summary>
public static class CliParsing
{
    public static MetricKind? Metric(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "logit" => MetricKind.Logit,
        "logit-diff" or "logitdiff" => MetricKind.LogitDiff,
        "logprob" or "log-prob" => MetricKind.LogProb,
        _ => throw new RelpSaeException($"--metric must be logit, logit-diff or logprob, got \"{text}\""),
    };

    public static BaselineKind? Baseline(string? text) => text?.ToLowerInvariant() switch
    {
        null or "auto" => null,
        "zero" => BaselineKind.Zero,
        "mean" => BaselineKind.Mean,
        "corrupt" => BaselineKind.Corrupt,
        _ => throw new RelpSaeException($"--baseline must be auto, zero, mean or corrupt, got \"{text}\""),
    };

    public static QuadratureRule Quadrature(string text) => text.ToLowerInvariant() switch
    {
        "midpoint" => QuadratureRule.Midpoint,
        "gauss-legendre" or "gauss" => QuadratureRule.GaussLegendre,
        _ => throw new RelpSaeException($"--ig-rule must be midpoint or gauss-legendre, got \"{text}\""),
    };

    /// <summary>--prompt-ids: comma-separated token ids, each checked against the vocabulary (when known here; else by the prompt resolver).</summary>
    public static int[] TokenIds(string text, int vocabSize = int.MaxValue, string option = "--prompt-ids")
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new RelpSaeException($"{option} is empty: give comma-separated token ids such as 1,15,27");
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out ids[i]) || ids[i] < 0 || ids[i] >= vocabSize)
                throw new RelpSaeException($"{option}: \"{parts[i]}\" is not a token id{(vocabSize == int.MaxValue ? "" : $" of this model (0..{vocabSize - 1})")}");
        return ids;
    }
}
