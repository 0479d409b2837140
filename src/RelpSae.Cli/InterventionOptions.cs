using System.CommandLine;
using System.Globalization;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Cli;

/// <summary>
/// --steer, --clamp and --ablate, each repeatable: feature interventions written HOOK:FEATURE=VALUE (HOOK:FEATURE to ablate),
/// HOOK the hook of a dictionary the command loads (--sae or --saes).
/// </summary>
internal sealed class InterventionOptions
{
    public Option<string[]> Steer { get; } = new("--steer")
    {
        Description = "HOOK:FEATURE=VALUE: add VALUE × the feature's decoder direction (W_dec row) to the activation at the dictionary's hook (a transcoder's output hook), at every position. Repeatable.",
    };

    public Option<string[]> Clamp { get; } = new("--clamp")
    {
        Description = "HOOK:FEATURE=VALUE: set the feature's activation to VALUE at every position, the dictionary's error node held, so only that feature's contribution changes. Repeatable.",
    };

    public Option<string[]> Ablate { get; } = new("--ablate")
    {
        Description = "HOOK:FEATURE: clamp the feature to 0. Repeatable.",
    };

    public IEnumerable<Option> All => [Steer, Clamp, Ablate];

    /// <summary>The interventions given, steered ones first, then clamped, then ablated.</summary>
    public IReadOnlyList<FeatureIntervention> Parse(ParseResult parse) =>
    [
        .. (parse.GetValue(Steer) ?? []).Select(text => Parse(Steer.Name, InterventionKind.Steer, text)),
        .. (parse.GetValue(Clamp) ?? []).Select(text => Parse(Clamp.Name, InterventionKind.Clamp, text)),
        .. (parse.GetValue(Ablate) ?? []).Select(text => Parse(Ablate.Name, InterventionKind.Ablate, text)),
    ];

    /// <summary>One option's text; a malformed one is refused naming <paramref name="option"/> and the text.</summary>
    public static FeatureIntervention Parse(string option, InterventionKind kind, string text)
    {
        bool ablate = kind == InterventionKind.Ablate;
        RelpSaeException Malformed(string why) =>
            new($"{option} {text}: {why}; write {(ablate ? "HOOK:FEATURE" : "HOOK:FEATURE=VALUE")}, e.g. blocks.2.hook_resid_post:17{(ablate ? "" : "=4")}");
        string spec = text, value = "0";
        int equals = text.LastIndexOf('=');
        if (ablate && equals >= 0) throw Malformed("ablating takes no value (it clamps to 0)");
        if (!ablate)
        {
            if (equals < 0) throw Malformed("no =VALUE");
            (spec, value) = (text[..equals], text[(equals + 1)..]);
        }
        int colon = spec.LastIndexOf(':');
        if (colon <= 0) throw Malformed("no HOOK:FEATURE");
        string hook = spec[..colon], feature = spec[(colon + 1)..];
        if (!int.TryParse(feature, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) throw Malformed($"\"{feature}\" is not a feature index");
        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v)) throw Malformed($"\"{value}\" is not a number");
        return new FeatureIntervention(kind, hook, index, v);
    }

    /// <summary>How JSON output records the interventions in force.</summary>
    public static object[] Json(IReadOnlyList<FeatureIntervention> interventions) =>
        [.. interventions.Select(i => new { kind = i.Kind.ToString().ToLowerInvariant(), hook = i.Hook, feature = i.Feature, value = i.Target ?? i.Value })];

    /// <summary>
    /// The dictionaries interventions may name: those of <paramref name="saes"/> (as --saes takes them) when given, else the one
    /// of <paramref name="sae"/> (--sae, an SAE or a transcoder).
    /// </summary>
    public static IReadOnlyList<FeatureDictionary> Dictionaries(string sae, string? saes, ModelFacts facts) => saes is not null
        ? SaeSet.Load(saes, facts).Select(FeatureDictionary.Of).ToList()
        : [DictionaryFile.Load(sae, facts).ForInterventions(facts)];
}
