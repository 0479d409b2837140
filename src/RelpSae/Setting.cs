namespace RelpSae;

/// <summary>
/// A choice the caller makes that the library can refuse, named by what it means. Messages about one
/// (<see cref="SettingException"/>) call it by <see cref="SettingNames.Library"/>; a front end calls it
/// what its user types (the CLI: an option).
/// </summary>
public enum Setting
{
    IgSteps, Methods, PatchPosition, Components, PromptCount, Foil, Corrupt, PromptIds, CorruptIds, Truncate,
    OutputFolder, Saes, Baseline, PerPosition, ShuffleRows, LearningRate, Sparsity, TokenCount, Temperature, DocumentCount,
    CenterWritingWeights, WeightsDType,
    Resume, Replace,
    TopContexts, ContextWindow,
    Steer, Clamp, Ablate,
}

/// <summary>The library's own words for each <see cref="Setting"/>: the API's names, or what the value means.</summary>
public static class SettingNames
{
    public static string Library(Setting setting) => setting switch
    {
        Setting.IgSteps => "IG steps",
        Setting.Methods => "method list",
        Setting.PatchPosition => "patch position",
        Setting.Components => "component list",
        Setting.PromptCount => "prompt count",
        Setting.Foil => "PromptCase.Foil",
        Setting.Corrupt => "PromptCase.Corrupt",
        Setting.PromptIds => "PromptCase.PromptIds",
        Setting.CorruptIds => "PromptCase.CorruptIds",
        Setting.Truncate => "truncate: true",
        Setting.OutputFolder => "output folder",
        Setting.Saes => "SAEs",
        Setting.Baseline => "baseline",
        Setting.PerPosition => "per-position nodes",
        Setting.ShuffleRows => "shuffled rows",
        Setting.LearningRate => "learning rate",
        Setting.Sparsity => "sparsity coefficient",
        Setting.TokenCount => "token count",
        Setting.Temperature => "temperature",
        Setting.DocumentCount => "document count",
        Setting.WeightsDType => "holding",
        Setting.CenterWritingWeights => "center_writing_weights",
        Setting.Resume => "resume: true",
        Setting.Replace => "replace: true",
        Setting.TopContexts => "top contexts per feature",
        Setting.ContextWindow => "tokens before the peak",
        Setting.Steer => "steer",
        Setting.Clamp => "clamp",
        Setting.Ablate => "ablate",
        _ => throw new ArgumentOutOfRangeException(nameof(setting)),
    };
}
