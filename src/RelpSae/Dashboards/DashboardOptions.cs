namespace RelpSae.Dashboards;

/// <summary>What <see cref="FeatureDashboards"/> keeps for each feature.</summary>
public sealed record DashboardOptions
{
    /// <summary>Top-activating contexts kept per feature.</summary>
    public int TopContexts { get; init; } = 20;
    /// <summary>Tokens shown before the peak token of a context.</summary>
    public int WindowBefore { get; init; } = 10;
    /// <summary>Tokens shown after it: a few, to see what the feature's token leads into.</summary>
    public int WindowAfter { get; init; } = 3;
    /// <summary>Largest and smallest output-token logits kept per feature.</summary>
    public int OutputTokens { get; init; } = 10;
    /// <summary>Contexts per model forward.</summary>
    public int ContextsPerForward { get; init; } = 8;

    /// <summary>Refuses counts that leave nothing to show (the setting's name in the message, as the caller calls it).</summary>
    public void Validate()
    {
        if (TopContexts <= 0) throw new SettingException(name => $"{name(Setting.TopContexts)} must be positive, got {TopContexts}");
        if (WindowBefore < 0) throw new SettingException(name => $"{name(Setting.ContextWindow)} must be >= 0, got {WindowBefore}");
        if (WindowAfter < 0 || OutputTokens <= 0 || ContextsPerForward <= 0)
            throw new ArgumentException("window after, output tokens and contexts per forward must be positive");
    }
}
