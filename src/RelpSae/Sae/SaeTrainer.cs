using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RelpSae.Sae;

/// <summary>
/// Trains an SAE on rows from an <see cref="IActivationSource"/> (docs/methods.md §7). Inputs are scaled so that
/// E‖x‖ = √d_in (scale estimated from the first batches, which also give b_dec its data-mean start); the
/// exported SAE has that scale folded in and works on raw activations. Everything is deterministic for a
/// seed, and a run resumed from a checkpoint ends with the same weights, bit for bit, as one never stopped.
/// A source with targets (<see cref="IActivationSource.DOut"/>) trains a transcoder: the loss compares x̂ with each row's
/// target instead of its input, the targets scaled on their own (E‖y‖ = √d) and b_dec started at their mean.
/// </summary>
public sealed class SaeTrainer
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    private readonly IActivationSource _source;
    private readonly SparseAutoencoder _params, _grads;
    private readonly AdamOptimizer _adam;
    private readonly DeadLatentTracker _tracker;
    private readonly SaeObjective _objective;
    private readonly DeterministicRandom _rng;
    private readonly float[] _x, _rows;
    private readonly float[]? _y;
    private readonly int _auxK;
    private bool _exhausted;

    public SaeTrainingOptions Options { get; }
    public int DIn { get; }
    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; private set; }
    /// <summary>Raw activations are multiplied by this before they reach the SAE during training.</summary>
    public float InputScale { get; }
    /// <summary>A transcoder's raw targets are multiplied by this during training (an SAE's by <see cref="InputScale"/>).</summary>
    public float OutputScale { get; }
    /// <summary>Whether the source's rows carry targets: a transcoder is trained.</summary>
    public bool IsTranscoder => _y is not null;
    /// <summary>True when all steps are done or the source ran out.</summary>
    public bool IsComplete => Step >= Options.TotalSteps || _exhausted;
    /// <summary>True if the source ended before <see cref="SaeTrainingOptions.TotalSteps"/>.</summary>
    public bool SourceExhausted => _exhausted;
    /// <summary>Statistics of the most recent step (null before the first).</summary>
    public SaeTrainingProgress? LastStep { get; private set; }

    private SaeTrainer(SaeTrainingOptions options, IActivationSource source, float inputScale, float outputScale, ulong seed)
    {
        options.Validate(source.DIn);
        CheckTargets(options, source);
        Options = options;
        DIn = source.DIn;
        _source = source;
        InputScale = inputScale;
        OutputScale = outputScale;
        var config = new SaeConfig
        {
            Architecture = options.Architecture, DIn = DIn, DSae = options.DSae,
            K = options.Architecture == SaeArchitecture.TopK ? options.K : 0,
            ApplyBDecToInput = options.ApplyBDecToInput,
        };
        _params = new SparseAutoencoder(config);
        _grads = new SparseAutoencoder(config);
        _adam = new AdamOptimizer(_params.Parameters);
        _tracker = new DeadLatentTracker(options.DSae, options.DeadWindowTokens);
        _auxK = options.AuxKOrDefault(DIn, options.DSae);
        _objective = new SaeObjective(config, options.BatchSize, _auxK);
        _rng = new DeterministicRandom(seed);
        _x = new float[options.BatchSize * DIn];
        _y = source.DOut > 0 ? new float[options.BatchSize * DIn] : null;
        _rows = _y is null ? _x : new float[options.BatchSize * 2 * DIn];
    }

    /// <summary>A transcoder's targets must be as wide as its inputs (an MLP's), and its b_dec an output bias.</summary>
    private static void CheckTargets(SaeTrainingOptions options, IActivationSource source)
    {
        if (source.DOut == 0) return;
        if (source.DOut != source.DIn)
            throw new RelpSaeException($"activation source: targets of width {source.DOut} for inputs of width {source.DIn}; a transcoder's output must be as wide as its input");
        if (options.ApplyBDecToInput)
            throw new RelpSaeException("training option apply_b_dec_to_input must be false for a transcoder (its b_dec is an output bias)");
    }

    /// <summary>Starts a run: reads the initialisation batches, then initialises the weights.</summary>
    public static SaeTrainer Start(SaeTrainingOptions options, IActivationSource source)
    {
        options.Validate(source.DIn);
        var (scale, outputScale, mean) = EstimateScaleAndMean(options, source);
        var trainer = new SaeTrainer(options, source, scale, outputScale, options.Seed);
        trainer.Initialize(mean);
        return trainer;
    }

    /// <summary>Continues a run from a checkpoint written by <see cref="SaveCheckpoint"/>; the source is
    /// moved to where the run left it.</summary>
    public static SaeTrainer Resume(string checkpointPath, IActivationSource source)
    {
        var (header, arrays) = TrainerCheckpoint.Read(checkpointPath);
        try
        {
            var options = header["options"].Deserialize<SaeTrainingOptions>(Json)
                ?? throw new RelpSaeException($"{checkpointPath}: checkpoint without options");
            int dIn = header["d_in"]!.GetValue<int>();
            if (dIn != source.DIn)
                throw new RelpSaeException($"{checkpointPath}: checkpoint was trained on d_in {dIn}, the activation source gives {source.DIn}");
            int dOut = header["d_out"]?.GetValue<int>() ?? 0;
            if (dOut != source.DOut)
                throw new RelpSaeException($"{checkpointPath}: checkpoint was trained {(dOut == 0 ? "as an SAE" : $"as a transcoder (d_out {dOut})")}, the activation source gives {(source.DOut == 0 ? "no targets" : $"targets of width {source.DOut}")}");
            float inputScale = header["input_scale"]!.GetValue<float>();
            var trainer = new SaeTrainer(options, source, inputScale, header["output_scale"]?.GetValue<float>() ?? inputScale, 1);
            trainer.Step = header["step"]!.GetValue<long>();
            trainer._exhausted = header["exhausted"]!.GetValue<bool>();
            trainer._rng.State = [.. header["rng"]!.AsArray().Select(n => n!.GetValue<ulong>())];
            trainer._tracker.Restore([.. header["tokens_since_fired"]!.AsArray().Select(n => n!.GetValue<long>())]);
            foreach (var (name, target) in trainer.StateArrays())
            {
                if (!arrays.TryGetValue(name, out var data) || data.Length != target.Length)
                    throw new RelpSaeException($"{checkpointPath}: array '{name}' is missing or has the wrong length");
                data.CopyTo(target, 0);
            }
            source.Seek(header["source_position"]!.GetValue<long>());
            return trainer;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            throw new RelpSaeException($"{checkpointPath}: corrupt checkpoint ({e.Message})", e);
        }
    }

    /// <summary>Writes the full state (atomically: temporary file, then rename).</summary>
    public void SaveCheckpoint(string path)
    {
        EnsureFiniteWeights();
        var header = new JsonObject
        {
            ["format"] = 1,
            ["d_in"] = DIn,
            ["d_out"] = _source.DOut,
            ["options"] = JsonSerializer.SerializeToNode(Options, Json),
            ["step"] = Step,
            ["exhausted"] = _exhausted,
            ["input_scale"] = InputScale,
            ["output_scale"] = OutputScale,
            ["source_position"] = _source.Position,
            ["rng"] = new JsonArray([.. _rng.State.Select(v => (JsonNode)v)]),
            ["tokens_since_fired"] = new JsonArray([.. _tracker.TokensSinceFired.Select(v => (JsonNode)v)]),
        };
        TrainerCheckpoint.Write(path, header, StateArrays());
    }

    /// <summary>One optimizer step on the next batch; false (and nothing done) when the run is complete
    /// or the source has no full batch left.</summary>
    public bool TrainStep()
    {
        if (IsComplete) return false;
        long position = _source.Position;
        if (_source.Read(_rows) < Options.BatchSize)
        {
            _source.Seek(position);
            _exhausted = true;
            return false;
        }
        if (_y is not null) Split(_rows, _x, _y);
        TensorPrimitives.Multiply(_x, InputScale, _x);
        if (_y is not null) TensorPrimitives.Multiply(_y, OutputScale, _y);

        float lr = TrainingSchedule.LearningRate(Options, Step);
        float lambda = TrainingSchedule.Sparsity(Options, Step);
        var settings = new ObjectiveSettings(lambda, Options.JumpReluBandwidth, Options.AuxKCoefficient, _auxK);
        var terms = _objective.Evaluate(_params, _x, settings, _tracker.Dead, _grads, _y);
        // A diverged step is not taken: the weights (and the checkpoints already written) stay the last good ones.
        if (!double.IsFinite(terms.Loss))
            throw Diverged($"the loss is {terms.Loss}");
        double gradNorm = AdamOptimizer.GlobalNorm(_grads.Parameters);
        _adam.Step(_params.Parameters, _grads.Parameters, AdamOptimizer.ClipScale(gradNorm, Options.MaxGradNorm), lr, Step + 1,
            Options.AdamBeta1, Options.AdamBeta2, Options.AdamEpsilon);
        if (Options.Architecture == SaeArchitecture.JumpRelu)
            TensorPrimitives.Max(_params.Threshold, 0f, _params.Threshold);
        _tracker.Update(_objective.FiredCounts, Options.BatchSize);
        Step++;

        int resampled = TrainingSchedule.ResampleDue(Options, Step)
            ? LatentResampler.Resample(_params, _adam, _tracker, _y ?? _x, _objective.Reconstruction, _objective.RowErrors,
                _rng, Options.ResampleEncoderScale, Options.JumpReluInitialThreshold)
            : 0;
        LastStep = new SaeTrainingProgress(Step, Options.TotalSteps, Step * Options.BatchSize,
            terms.Loss, terms.Reconstruction / DIn, terms.Sparsity, terms.Aux, terms.L0, terms.ExplainedVariance,
            _tracker.DeadFraction, lr, lambda, gradNorm, 0, resampled);
        return true;
    }

    /// <summary>A step can leave finite loss but overflowed weights; those are never saved.</summary>
    private void EnsureFiniteWeights()
    {
        foreach (var p in _params.Parameters)
            if (!TensorPrimitives.IsFiniteAll<float>(p)) throw Diverged("the weights are no longer finite");
    }

    private SettingException Diverged(string what) => new(name =>
        $"training diverged at step {Step + 1}: {what} (learning rate {Options.LearningRate}, sparsity coefficient {Options.Sparsity}); " +
        $"checkpoints written before it are kept; train again with a lower {name(Setting.LearningRate)} or {name(Setting.Sparsity)}");

    /// <summary>
    /// Trains to the end, reporting window averages every <paramref name="progressEverySteps"/> steps and
    /// checkpointing every <paramref name="checkpointEverySteps"/> (and at the end) when a path is given.
    /// On cancellation it checkpoints (if it can) and throws <see cref="OperationCanceledException"/>.
    /// Returns <see cref="ExportSae"/>(<paramref name="provenance"/>).
    /// </summary>
    public SparseAutoencoder Run(IProgress<SaeTrainingProgress>? progress = null, int progressEverySteps = 100,
        string? checkpointPath = null, long checkpointEverySteps = 0, SaeProvenance? provenance = null,
        CancellationToken cancellationToken = default)
    {
        var window = new ProgressWindow(Options.BatchSize);
        var clock = Stopwatch.StartNew();
        while (TrainStep())
        {
            window.Add(LastStep!);
            if (checkpointPath is not null && checkpointEverySteps > 0 && Step % checkpointEverySteps == 0)
                SaveCheckpoint(checkpointPath);
            if (progress is not null && (Step % Math.Max(1, progressEverySteps) == 0 || IsComplete))
            {
                progress.Report(window.Average(LastStep!, clock.Elapsed.TotalSeconds));
                window = new ProgressWindow(Options.BatchSize);
                clock.Restart();
            }
            if (cancellationToken.IsCancellationRequested)
            {
                if (checkpointPath is not null) SaveCheckpoint(checkpointPath);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        if (checkpointPath is not null) SaveCheckpoint(checkpointPath);
        return ExportSae(provenance);
    }

    /// <summary>The SAE as it stands, with the input scale folded in (it expects raw activations), described by
    /// <paramref name="provenance"/>, and with the training options recorded under metadata["relp_sae_training"].</summary>
    public SparseAutoencoder ExportSae(SaeProvenance? provenance = null)
    {
        EnsureFiniteWeights();
        var extra = (JsonObject?)provenance?.Extra?.DeepClone() ?? [];
        extra["relp_sae_training"] = new JsonObject
        {
            ["options"] = JsonSerializer.SerializeToNode(Options, Json),
            ["steps"] = Step,
            ["tokens"] = Step * Options.BatchSize,
            ["input_scale_folded"] = InputScale,
        };
        if (IsTranscoder) ((JsonObject)extra["relp_sae_training"]!)["output_scale_folded"] = OutputScale;
        var sae = _params.Clone(_params.Config with
        {
            HookName = provenance?.HookName, ModelName = provenance?.ModelName, ContextSize = provenance?.ContextSize,
            PrependBos = provenance?.PrependBos, DatasetPath = provenance?.DatasetPath, Extra = extra,
        });
        sae.FoldScales(InputScale, OutputScale);
        return sae;
    }

    private void Initialize(float[] mean)
    {
        int d = DIn, s = Options.DSae;
        for (int i = 0; i < s; i++)
        {
            var row = _params.WDec.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) row[j] = (float)_rng.NextGaussian();
            TensorPrimitives.Multiply(row, Options.DecoderInitNorm / TensorPrimitives.Norm(row), row);
            for (int j = 0; j < d; j++) _params.WEnc[(long)j * s + i] = row[j];
        }
        mean.CopyTo(_params.BDec, 0);
        Array.Fill(_params.Threshold, Options.JumpReluInitialThreshold);
    }

    /// <summary>The input scale, the target scale (a transcoder's; else the input's) and the scaled targets' mean, from
    /// the first batches.</summary>
    private static (float Scale, float OutputScale, float[] Mean) EstimateScaleAndMean(SaeTrainingOptions options, IActivationSource source)
    {
        int d = source.DIn, width = d + source.DOut;
        var batch = new float[options.BatchSize * width];
        var sum = new double[d];
        double normSum = 0, targetNormSum = 0;
        long rows = 0;
        for (int n = 0; n < options.InitializationBatches; n++)
        {
            int got = source.Read(batch);
            for (int r = 0; r < got; r++)
            {
                var row = batch.AsSpan(r * width, width);
                var target = row[(width - d)..];
                normSum += TensorPrimitives.Norm(row[..d]);
                targetNormSum += TensorPrimitives.Norm(target);
                for (int j = 0; j < d; j++) sum[j] += target[j];
            }
            rows += got;
            if (got < options.BatchSize) break;
        }
        if (rows == 0) throw new RelpSaeException("activation source gave no rows to initialise the SAE from");
        foreach (var (norms, what) in new[] { (normSum, "rows"), (targetNormSum, "targets") })
            if (!(norms > 0) || !double.IsFinite(norms))
                throw new RelpSaeException($"activation source: the first {rows} {what} are all zero or not finite");
        float Scale(double norms) => options.NormalizeActivations ? (float)(Math.Sqrt(d) / (norms / rows)) : 1f;
        float outputScale = Scale(targetNormSum);
        return (Scale(normSum), outputScale, [.. sum.Select(v => (float)(v / rows * outputScale))]);
    }

    /// <summary>Rows of [input | target] into the input and target batches.</summary>
    private void Split(ReadOnlySpan<float> rows, Span<float> x, Span<float> y)
    {
        int d = DIn;
        for (int r = 0; r < Options.BatchSize; r++)
        {
            rows.Slice(2 * r * d, d).CopyTo(x.Slice(r * d, d));
            rows.Slice((2 * r + 1) * d, d).CopyTo(y.Slice(r * d, d));
        }
    }

    private IReadOnlyList<(string Name, float[] Data)> StateArrays()
    {
        string[] names = ["W_enc", "b_enc", "W_dec", "b_dec", "threshold"];
        var list = new List<(string, float[])>();
        var p = _params.Parameters;
        for (int a = 0; a < p.Length; a++)
        {
            list.Add((names[a], p[a]));
            list.Add(("adam_m." + names[a], _adam.M[a]));
            list.Add(("adam_v." + names[a], _adam.V[a]));
        }
        return list;
    }

    /// <summary>Sums step statistics for a report.</summary>
    private sealed class ProgressWindow(int batchSize)
    {
        private int _n, _resampled;
        private double _loss, _mse, _sparsity, _aux, _l0, _ev, _grad;

        public void Add(SaeTrainingProgress p)
        {
            _n++;
            _loss += p.Loss; _mse += p.Mse; _sparsity += p.SparsityLoss; _aux += p.AuxLoss;
            _l0 += p.L0; _ev += p.ExplainedVariance; _grad += p.GradientNorm; _resampled += p.Resampled;
        }

        public SaeTrainingProgress Average(SaeTrainingProgress last, double seconds) => last with
        {
            Loss = _loss / _n, Mse = _mse / _n, SparsityLoss = _sparsity / _n, AuxLoss = _aux / _n,
            L0 = _l0 / _n, ExplainedVariance = _ev / _n, GradientNorm = _grad / _n, Resampled = _resampled,
            TokensPerSecond = seconds > 0 ? (double)_n * batchSize / seconds : 0,
        };
    }
}
