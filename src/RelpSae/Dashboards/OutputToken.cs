namespace RelpSae.Dashboards;

/// <summary>A token a feature's decoder direction pushes up or down, with the logit it gives it.</summary>
public sealed record OutputToken(int Id, float Logit);
