namespace RelpSae.Sae;

/// <summary>
/// Everything that decides a training run. Stored in every checkpoint, so a resumed run continues with
/// exactly these values. Step counts are optimizer steps of <see cref="BatchSize"/> rows each.
/// </summary>
public sealed record SaeTrainingOptions
{
    public SaeArchitecture Architecture { get; init; } = SaeArchitecture.Standard;
    public required int DSae { get; init; }
    /// <summary>Active latents per row, TopK only.</summary>
    public int K { get; init; } = 32;
    public bool ApplyBDecToInput { get; init; } = true;

    public int BatchSize { get; init; } = 4096;
    public required long TotalSteps { get; init; }
    public ulong Seed { get; init; }

    public float LearningRate { get; init; } = 4e-4f;
    public float AdamBeta1 { get; init; } = 0.9f;
    public float AdamBeta2 { get; init; } = 0.999f;
    public float AdamEpsilon { get; init; } = 1e-8f;
    /// <summary>Clip the global gradient norm to this (0: no clipping).</summary>
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>Learning rate rises linearly from 0 over these first steps …</summary>
    public long LrWarmupSteps { get; init; }
    /// <summary>… and falls linearly to 0 over these last steps.</summary>
    public long LrDecaySteps { get; init; }

    /// <summary>λ: the decoder-norm-weighted L1 coefficient (standard) or the L0 coefficient (JumpReLU);
    /// TopK has no sparsity penalty. Null: <see cref="DefaultSparsityCoefficient"/>.</summary>
    public float? SparsityCoefficient { get; init; }
    /// <summary>λ rises linearly from 0 over these first steps.</summary>
    public long SparsityWarmupSteps { get; init; }

    /// <summary>Width ε of the rectangle kernel in JumpReLU's threshold pseudo-gradient.</summary>
    public float JumpReluBandwidth { get; init; } = 0.05f;
    public float JumpReluInitialThreshold { get; init; } = 0.01f;

    /// <summary>AuxK (TopK): weight α of the dead latents' reconstruction of the residual.</summary>
    public float AuxKCoefficient { get; init; } = 1f / 32;
    /// <summary>AuxK: dead latents used per row (0: d_in / 2).</summary>
    public int AuxK { get; init; }

    /// <summary>Scale activations so that E‖x‖ = √d_in during training (folded into the weights on export).</summary>
    public bool NormalizeActivations { get; init; } = true;
    /// <summary>Batches read first to estimate the normalisation scale and the b_dec initialisation (the data
    /// mean); they are not trained on.</summary>
    public int InitializationBatches { get; init; } = 10;
    /// <summary>Norm of each decoder row at initialisation (W_enc starts as W_decᵀ).</summary>
    public float DecoderInitNorm { get; init; } = 0.1f;

    /// <summary>A latent is dead when it has not fired in this many tokens.</summary>
    public long DeadWindowTokens { get; init; } = 10_000_000;
    /// <summary>Standard/JumpReLU: re-initialise dead latents every this many steps, until the learning-rate
    /// decay begins (0: never).</summary>
    public long ResampleIntervalSteps { get; init; } = 2500;
    /// <summary>When resampling, encoder columns get this fraction of the mean alive encoder column norm.</summary>
    public float ResampleEncoderScale { get; init; } = 0.2f;

    public static float DefaultSparsityCoefficient(SaeArchitecture architecture) => architecture switch
    {
        SaeArchitecture.Standard => 5f,
        SaeArchitecture.JumpRelu => 0.2f,
        _ => 0f,
    };

    public float Sparsity => SparsityCoefficient ?? DefaultSparsityCoefficient(Architecture);

    public int AuxKOrDefault(int dIn, int dSae) => Math.Min(AuxK > 0 ? AuxK : Math.Max(1, dIn / 2), dSae);

    /// <summary>Throws a one-line <see cref="RelpSaeException"/> naming the first bad option.</summary>
    public void Validate(int dIn)
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new RelpSaeException($"training option {message}");
        }
        Check(DSae > 0, $"d_sae must be positive (got {DSae})");
        Check(Architecture != SaeArchitecture.TopK || (K > 0 && K <= DSae), $"k must be in 1..d_sae (got {K})");
        Check(BatchSize > 0, $"batch size must be positive (got {BatchSize})");
        Check(TotalSteps > 0, $"total steps must be positive (got {TotalSteps})");
        Check(LearningRate > 0 && float.IsFinite(LearningRate), $"learning rate must be positive and finite (got {LearningRate})");
        Check(AdamBeta1 is >= 0 and < 1 && AdamBeta2 is >= 0 and < 1, "Adam betas must be in [0, 1)");
        Check(AdamEpsilon > 0, "Adam epsilon must be positive");
        Check(MaxGradNorm >= 0, "max gradient norm must be >= 0");
        Check(LrWarmupSteps >= 0 && LrDecaySteps >= 0 && LrWarmupSteps + LrDecaySteps <= TotalSteps,
            $"warm-up ({LrWarmupSteps}) plus decay ({LrDecaySteps}) steps must fit in the total ({TotalSteps})");
        Check(Sparsity >= 0 && float.IsFinite(Sparsity) && SparsityWarmupSteps >= 0, $"sparsity coefficient (got {Sparsity}) and its warm-up must be finite and >= 0");
        Check(JumpReluBandwidth > 0 && JumpReluInitialThreshold >= 0, "JumpReLU bandwidth must be positive, initial threshold >= 0");
        Check(AuxKCoefficient >= 0 && AuxK >= 0, "AuxK coefficient and AuxK must be >= 0");
        Check(InitializationBatches > 0, "initialization batches must be positive");
        Check(DecoderInitNorm > 0, "decoder init norm must be positive");
        Check(DeadWindowTokens > 0 && ResampleIntervalSteps >= 0, "dead window must be positive, resample interval >= 0");
        Check(dIn > 0, $"d_in must be positive (got {dIn})");
        Check((long)BatchSize * Math.Max(DSae, dIn) <= Array.MaxLength,
            $"batch size × d_sae ({(long)BatchSize * DSae}) exceeds one array's {Array.MaxLength} elements");
    }
}
