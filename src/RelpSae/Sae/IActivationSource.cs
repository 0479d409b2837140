namespace RelpSae.Sae;

/// <summary>
/// Where the trainer's activation rows come from (a model run over packed text, a file, synthetic data).
/// A source must be deterministic in its position: after <see cref="Seek"/>(p) it yields exactly the rows
/// it yielded the first time it stood at p, which is what makes a resumed training run bit-identical.
/// </summary>
public interface IActivationSource
{
    /// <summary>Width of one row (the SAE's d_in).</summary>
    int DIn { get; }

    /// <summary>Fills <paramref name="rows"/> (a multiple of DIn long) with the next rows; returns how many rows
    /// it wrote, fewer than asked only when the data ends.</summary>
    int Read(Span<float> rows);

    /// <summary>Rows handed out so far.</summary>
    long Position { get; }

    /// <summary>Continues from row <paramref name="position"/>.</summary>
    void Seek(long position);
}
