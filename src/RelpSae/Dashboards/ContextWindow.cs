namespace RelpSae.Dashboards;

/// <summary>
/// One of a feature's top-activating contexts: the tokens around its peak and the feature's activation on each,
/// so a viewer can shade them. <see cref="Context"/> counts the data's contexts from 0 in the order read,
/// <see cref="Position"/> is the peak's position in it and <see cref="PeakIndex"/> the peak's index in the window.
/// </summary>
public sealed record ContextWindow(long Context, int Position, float Value, int[] TokenIds, float[] Values, int PeakIndex);
