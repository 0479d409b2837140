namespace RelpSae.Sae;

/// <summary>Learning rate and sparsity coefficient as functions of the (0-based) step.</summary>
internal static class TrainingSchedule
{
    /// <summary>Linear warm-up from 0, constant, then linear decay to 0 over the last decay steps.</summary>
    public static float LearningRate(SaeTrainingOptions o, long step)
    {
        double factor = 1;
        if (o.LrWarmupSteps > 0 && step < o.LrWarmupSteps) factor = (step + 1.0) / o.LrWarmupSteps;
        long decayStart = o.TotalSteps - o.LrDecaySteps;
        if (o.LrDecaySteps > 0 && step >= decayStart)
            factor = Math.Min(factor, (double)(o.TotalSteps - step) / o.LrDecaySteps);
        return (float)(o.LearningRate * factor);
    }

    public static float Sparsity(SaeTrainingOptions o, long step) =>
        o.SparsityWarmupSteps > 0 && step < o.SparsityWarmupSteps
            ? (float)(o.Sparsity * (step + 1.0) / o.SparsityWarmupSteps)
            : o.Sparsity;

    /// <summary>Resampling happens every interval steps, but not once the learning rate decays.</summary>
    public static bool ResampleDue(SaeTrainingOptions o, long stepsDone) =>
        o.Architecture != SaeArchitecture.TopK && o.ResampleIntervalSteps > 0
        && stepsDone % o.ResampleIntervalSteps == 0 && stepsDone <= o.TotalSteps - o.LrDecaySteps;
}
