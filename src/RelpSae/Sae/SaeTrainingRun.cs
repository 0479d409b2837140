using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// A training run in its folder, start to finish: training through an atomic checkpoint (every so many
/// steps, and on cancellation), then the finished SAE saved in SAELens' layout, measured inside its model
/// (feature summaries and means beside it, each feature's log density in its sparsity file) and the
/// checkpoint it supersedes deleted: a completed run has nothing left to resume. With an <paramref name="outputHook"/>
/// the run trains a transcoder reading <paramref name="hook"/> and writing that hook, saved as a SAELens transcoder folder.
/// </summary>
public sealed class SaeTrainingRun(ModelFolder model, HookPoint hook, SaeDataSettings data, string folder, HookPoint? outputHook = null)
{
    public const string CheckpointFile = "checkpoint.safetensors";

    public string Checkpoint => Path.Combine(folder, CheckpointFile);

    /// <summary>
    /// Trains to the end (<see cref="SaeTrainer.Run"/>), progress every 10 steps; on cancellation it checkpoints
    /// and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public SparseAutoencoder Train(SaeTrainer trainer, long checkpointEverySteps, SaeProvenance provenance,
        IProgress<SaeTrainingProgress>? progress = null, CancellationToken cancellationToken = default) =>
        trainer.Run(progress, progressEverySteps: 10, Checkpoint, checkpointEverySteps, provenance, cancellationToken);

    /// <summary>Saves, measures on <paramref name="evalTokens"/> positions of the data and cleans up (see the class).</summary>
    public SaeModelReport Finish(SparseAutoencoder sae, long evalTokens, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var transcoder = outputHook is { } output ? new Transcoder(sae, hook.Name, output.Name) : null;
        void Save(IReadOnlyList<float>? logSparsity)
        {
            if (transcoder is null) SaeFiles.Save(folder, sae, logSparsity);
            else TranscoderFiles.Save(folder, transcoder, logSparsity);
        }
        Save(null);
        var report = transcoder is null
            ? SaeModelEvaluation.RunAndSave(model, sae, hook, data, evalTokens, folder, progress, cancellationToken)
            : SaeModelEvaluation.RunAndSave(model, transcoder, hook, outputHook!.Value, data, evalTokens, folder, progress, cancellationToken);
        Save(SaeEvaluation.LogDensity(report.Metrics.FeatureDensity));
        File.Delete(Checkpoint);
        return report;
    }
}
