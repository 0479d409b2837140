namespace RelpSae.Prompts;

/// <summary>
/// One attribution or evaluation case: the prompt, the target token (text; null = the model's top
/// prediction), an optional foil for a logit difference, and an optional corrupted prompt of the same
/// token length to serve as the baseline.
/// </summary>
public sealed record PromptCase(string Prompt, string? Target = null, string? Foil = null, string? Corrupt = null);
