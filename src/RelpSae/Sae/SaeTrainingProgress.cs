namespace RelpSae.Sae;

/// <summary>
/// Training statistics, for one step (<see cref="SaeTrainer.LastStep"/>) or averaged over the steps since the
/// last report (<see cref="SaeTrainer.Run"/>). Loss terms are in the normalised units the SAE trains in;
/// Mse is per element, SparsityLoss is λ times the penalty (L1 or L0), L0 is active latents per row,
/// Resampled counts latents re-initialised; TokensPerSecond is only measured by Run (0 for a single step).
/// </summary>
public sealed record SaeTrainingProgress(
    long Step, long TotalSteps, long Tokens,
    double Loss, double Mse, double SparsityLoss, double AuxLoss,
    double L0, double ExplainedVariance, double DeadFraction,
    double LearningRate, double SparsityCoefficient, double GradientNorm,
    double TokensPerSecond, int Resampled);
