using System.Globalization;
using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>One token on which a feature fires strongly, with its largest activation there.</summary>
public sealed record TopToken(string Token, float Activation);

/// <summary>What each feature responds to (feature_summaries.json beside the SAE): density and top-activating tokens.</summary>
public sealed class FeatureSummaries(IReadOnlyList<double> density, IReadOnlyList<IReadOnlyList<TopToken>> topTokens)
{
    public const string FileName = "feature_summaries.json";

    public IReadOnlyList<double> Density { get; } = density;
    public IReadOnlyList<IReadOnlyList<TopToken>> TopTokens { get; } = topTokens;

    /// <summary>A short description for tables: the top tokens with their activations.</summary>
    public string Describe(int feature, int count = 4) =>
        feature < TopTokens.Count
            ? string.Join(", ", TopTokens[feature].Take(count).Select(t => string.Create(CultureInfo.InvariantCulture, $"\"{t.Token}\" {t.Activation:F1}")))
            : "";

    public void Save(string saeDir)
    {
        var doc = new
        {
            features = Enumerable.Range(0, TopTokens.Count).Select(i => new
            {
                feature = i, density = Density[i],
                top_tokens = TopTokens[i].Select(t => new { token = t.Token, activation = t.Activation }),
            }),
        };
        File.WriteAllText(Path.Combine(saeDir, FileName), JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Room for one feature's entry (eight top tokens, indented, however long their text): the file's
    /// size cap grows with the SAE, since a wide SAE's summaries pass the usual side-file cap.
    /// </summary>
    private const long MaxBytesPerFeature = 16 << 10;

    /// <summary>The summaries beside an SAE of <paramref name="dSae"/> features, or null when it has none (they are optional).</summary>
    public static FeatureSummaries? Load(string saeDir, int dSae)
    {
        var path = Path.Combine(saeDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var features = JsonDocument.Parse(SideFile.ReadBytes(path, Math.Max(SideFile.MaxBytes, dSae * MaxBytesPerFeature))).RootElement.GetProperty("features").EnumerateArray().ToList();
            return new FeatureSummaries(
                features.Select(f => f.GetProperty("density").GetDouble()).ToList(),
                features.Select(f => (IReadOnlyList<TopToken>)f.GetProperty("top_tokens").EnumerateArray()
                    .Select(t => new TopToken(t.GetProperty("token").GetString()!, t.GetProperty("activation").GetSingle())).ToList()).ToList());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RelpSaeException($"{path} is not a valid feature summary file ({e.Message.Split('\n')[0]})");
        }
    }
}
