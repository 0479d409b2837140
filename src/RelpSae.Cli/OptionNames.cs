namespace RelpSae.Cli;

/// <summary>
/// The option that gives each library <see cref="Setting"/>, so that a library error about a setting
/// names the option the user typed (<see cref="SettingException.Naming"/>).
/// </summary>
public static class OptionNames
{
    public static string Of(Setting setting) => setting switch
    {
        Setting.IgSteps => "--ig-steps",
        Setting.Methods => "--methods",
        Setting.PatchPosition => "--patch-position",
        Setting.Components => "--components",
        Setting.PromptCount => "--n",
        Setting.Foil => "--foil",
        Setting.Corrupt => "--corrupt TEXT",
        Setting.PromptIds => "--prompt-ids",
        Setting.CorruptIds => "--corrupt-ids",
        Setting.Truncate => "--truncate",
        Setting.OutputFolder => "--out",
        Setting.Saes => "--saes",
        Setting.Baseline => "--baseline",
        Setting.PerPosition => "--per-position",
        Setting.ShuffleRows => "--shuffle-rows",
        Setting.LearningRate => "--lr",
        Setting.Sparsity => "--l1",
        Setting.TokenCount => "--tokens",
        Setting.Temperature => "--temperature",
        Setting.DocumentCount => "--documents",
        Setting.CenterWritingWeights => "--center-writing-weights",
        Setting.WeightsDType => "--dtype",
        Setting.Resume => "--resume",
        Setting.Replace => "--force",
        Setting.TopContexts => "--top",
        Setting.ContextWindow => "--window",
        Setting.Steer => "--steer",
        Setting.Clamp => "--clamp",
        Setting.Ablate => "--ablate",
        _ => throw new ArgumentOutOfRangeException(nameof(setting)),
    };

    /// <summary>An error's message as the user should read it: settings called by their options.</summary>
    public static string Message(Exception e) => e is SettingException setting ? setting.Naming(Of) : e.Message;
}
