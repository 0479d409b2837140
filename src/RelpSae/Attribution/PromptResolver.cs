using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Text;

namespace RelpSae.Attribution;

/// <summary>A prompt made concrete: its token ids, the metric with its token ids, and the baseline.</summary>
public sealed record ResolvedPrompt(string Prompt, int[] Tokens, Metric Metric, Baseline Baseline);

/// <summary>
/// Turns a <see cref="PromptCase"/> (texts) into token ids, a metric and a baseline. A target or foil is
/// a text that must be exactly one token, or a token id written as digits; with no target the model's
/// top prediction is explained. A logit difference without a foil takes the corrupted prompt's top
/// prediction (or the clean runner-up when both agree). With no baseline given, a case with a
/// corrupted prompt uses it and any other is zero-ablated. Predictions are the model's under <paramref name="rewrite"/> when one is
/// given (feature interventions), so a default target is what the changed model predicts.
/// </summary>
public sealed class PromptResolver(ITransformer model, ITextTokenizer? tokenizer, MetricKind? kind = null, BaselineKind? baseline = null,
    float[]? featureMeans = null, bool prependBos = false, int position = -1, bool truncate = false, IActivationRewrite? rewrite = null)
{
    public ResolvedPrompt Resolve(PromptCase c)
    {
        var tokens = Tokenize(c.PromptIds, c.Prompt, "prompt");
        int[]? corrupt = c.CorruptIds is null && c.Corrupt is null ? null : Tokenize(c.CorruptIds, c.Corrupt, "corrupted prompt");
        if (corrupt is not null) CorruptedPrompt.CheckLength(tokens, corrupt, tokenizer);
        var pos = new Metric(MetricKind.Logit, 0, Position: position).ResolvePosition(tokens.Length);
        int target = c.Target is null ? Ranked(tokens, pos)[0] : TokenId(c.Target, "target");
        var metricKind = kind ?? (c.Foil is not null || corrupt is not null ? MetricKind.LogitDiff : MetricKind.Logit);
        int foil = -1;
        if (metricKind == MetricKind.LogitDiff)
        {
            if (c.Foil is not null) foil = TokenId(c.Foil, "foil");
            else if (corrupt is not null)
            {
                foil = Ranked(corrupt, pos)[0];
                if (foil == target) foil = Ranked(tokens, pos)[1];
            }
            else throw new SettingException(name => $"the logit-diff metric needs a foil token ({name(Setting.Foil)}) or a corrupted prompt to take it from");
        }
        var metric = new Metric(metricKind, target, foil, position);
        metric.Validate(model.Facts.VocabSize);
        return new ResolvedPrompt(c.Prompt, tokens, metric, Baseline(corrupt));
    }

    private Baseline Baseline(int[]? corrupt)
    {
        // No baseline asked for: the corrupted prompt when there is one, else zero ablation.
        if (corrupt is not null && baseline is null or BaselineKind.Corrupt) return Attribution.Baseline.Corrupt(corrupt);
        return baseline switch
        {
            BaselineKind.Corrupt => throw new SettingException(name => $"the corrupt baseline needs a corrupted prompt ({name(Setting.Corrupt)})"),
            BaselineKind.Mean => Attribution.Baseline.Mean(featureMeans ?? throw new RelpSaeException("the mean baseline needs feature means beside the SAE (feature_means.safetensors, written by SaeModelEvaluation)")),
            _ => Attribution.Baseline.Zero,
        };
    }

    /// <summary>The ids given (each checked against the vocabulary), else the text's tokens.</summary>
    private int[] Tokenize(int[]? given, string? text, string what)
    {
        var facts = model.Facts;
        int[] ids;
        if (given is not null)
        {
            if (given.Length == 0) throw new RelpSaeException($"the {what} is empty");
            foreach (int id in given)
                if ((uint)id >= (uint)facts.VocabSize) throw new RelpSaeException($"the {what}'s token id {id} is outside the vocabulary (0..{facts.VocabSize - 1})");
            ids = given;
        }
        else
        {
            if (string.IsNullOrEmpty(text)) throw new RelpSaeException($"the {what} is empty");
            ids = Tokenizer(what).Encode(text);
        }
        int limit = facts.Context - (prependBos ? 1 : 0);
        if (ids.Length > limit)
        {
            if (!truncate)
                throw new SettingException(name => $"the {what} is {ids.Length} tokens, longer than the model's context of {limit}: shorten it or pass {name(Setting.Truncate)}");
            ids = ids[^limit..];
        }
        return prependBos ? Generation.PrependBos(facts, ids) : ids;
    }

    private int TokenId(string text, string what)
    {
        if (PromptCase.IsTokenId(text))
            return int.TryParse(text, out int id) && id < model.Facts.VocabSize ? id
                : throw new RelpSaeException($"{what} id {text} is outside the vocabulary (0..{model.Facts.VocabSize - 1})");
        if (text.Length == 0) throw new RelpSaeException($"the {what} is empty");
        return Tokenizer(what).SingleToken(text, what);
    }

    private ITextTokenizer Tokenizer(string what) => tokenizer ?? throw NoTokenizer(what);

    /// <summary>
    /// Refuses a case given as text for a model without a tokenizer, before anything else is loaded: the
    /// model's own problem is the one to report first.
    /// </summary>
    public static void CheckTokenizer(PromptCase c, ITextTokenizer? tokenizer)
    {
        if (tokenizer is null && c.PromptIds is null) throw NoTokenizer("prompt");
    }

    private static SettingException NoTokenizer(string what) =>
        new(name => $"the model has no tokenizer: give the {what} as token ids ({name(Setting.PromptIds)} / {name(Setting.CorruptIds)}, or \"prompt_ids\" / \"corrupt_ids\" in a prompt file; a target or foil as an id)");

    /// <summary>Token ids by descending logit at the position.</summary>
    private int[] Ranked(int[] tokens, int pos)
    {
        using var run = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.All, Rewrite = rewrite });
        int V = model.Facts.VocabSize;
        var row = run.Logits.AsSpan(pos * V, V).ToArray();
        var order = Enumerable.Range(0, V).ToArray();
        Array.Sort(row.Select(v => -v).ToArray(), order);
        return order;
    }
}
