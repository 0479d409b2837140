namespace RelpSae.Sae;

/// <summary>
/// Where the trainer's activation rows come from (a model run over packed text, a file, synthetic data).
/// A source must be deterministic in its position: after <see cref="Seek"/>(p) it yields exactly the rows
/// it yielded the first time it stood at p, which is what makes a resumed training run bit-identical.
/// </summary>
public interface IActivationSource
{
    /// <summary>Width of one row's input (the SAE's d_in).</summary>
    int DIn { get; }

    /// <summary>A transcoder's target width: each row is its DIn input values followed by the DOut values the
    /// transcoder must predict from them (its MLP's output at the same position). 0 for an SAE, whose target is its input.</summary>
    int DOut => 0;

    /// <summary>Fills <paramref name="rows"/> (a multiple of DIn + DOut long) with the next rows; returns how many rows
    /// it wrote, fewer than asked only when the data ends.</summary>
    int Read(Span<float> rows);

    /// <summary>Rows handed out so far.</summary>
    long Position { get; }

    /// <summary>Continues from row <paramref name="position"/>.</summary>
    void Seek(long position);
}
