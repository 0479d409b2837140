using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>Random SAEs and batches for the SAE tests, reproducible from a seed.</summary>
internal static class SaeTestData
{
    public static SaeConfig Config(SaeArchitecture architecture, int dIn, int dSae, int k = 0, bool applyBDec = true) => new()
    {
        Architecture = architecture, DIn = dIn, DSae = dSae, ApplyBDecToInput = applyBDec,
        K = architecture == SaeArchitecture.TopK ? k : 0,
    };

    public static float[] Gaussian(int length, ulong seed, double scale = 1, double mean = 0)
    {
        var rng = new DeterministicRandom(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(mean + scale * rng.NextGaussian());
        return data;
    }

    public static SparseAutoencoder RandomSae(SaeConfig config, ulong seed, double encoderBias = 0)
    {
        var sae = new SparseAutoencoder(config);
        Gaussian(sae.WEnc.Length, seed, 0.5).CopyTo(sae.WEnc, 0);
        Gaussian(sae.BEnc.Length, seed + 1, 0.3, encoderBias).CopyTo(sae.BEnc, 0);
        Gaussian(sae.WDec.Length, seed + 2, 0.5).CopyTo(sae.WDec, 0);
        Gaussian(sae.BDec.Length, seed + 3, 0.3).CopyTo(sae.BDec, 0);
        for (int i = 0; i < sae.Threshold.Length; i++) sae.Threshold[i] = 0.2f + 0.05f * i;
        return sae;
    }
}

/// <summary>
/// Rows x = offset + Σ_j a_j·atom_j over a fixed dictionary of unit atoms, each atom active with a set
/// probability and a magnitude uniform in [0.5, 1.5], all times a gain. Row r depends only on (seed, r), so
/// Seek is exact.
/// </summary>
internal sealed class SyntheticDictionarySource : IActivationSource
{
    private readonly ulong _seed;
    private readonly double _activeProbability;
    private readonly float[] _offset;
    private readonly float _gain;

    public SyntheticDictionarySource(int dIn, int atoms, double activeProbability, ulong seed, float offsetScale = 0, float gain = 1)
    {
        _gain = gain;
        DIn = dIn;
        _seed = seed;
        _activeProbability = activeProbability;
        Atoms = SaeTestData.Gaussian(atoms * dIn, seed ^ 0xA70A5UL);
        for (int a = 0; a < atoms; a++)
        {
            var atom = Atoms.AsSpan(a * dIn, dIn);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(atom);
            System.Numerics.Tensors.TensorPrimitives.Divide(atom, norm, atom);
        }
        _offset = SaeTestData.Gaussian(dIn, seed ^ 0x0FF5E7UL, offsetScale);
    }

    /// <summary>[atoms × d_in], unit rows.</summary>
    public float[] Atoms { get; }
    public int AtomCount => Atoms.Length / DIn;
    public int DIn { get; }
    public long Position { get; private set; }
    /// <summary>Rows after which Read reports the end of the data (long.MaxValue: never).</summary>
    public long Length { get; init; } = long.MaxValue;

    public int Read(Span<float> rows)
    {
        int n = (int)Math.Min(rows.Length / DIn, Length - Position);
        for (int r = 0; r < n; r++) FillRow(Position + r, rows.Slice(r * DIn, DIn));
        Position += n;
        return n;
    }

    public void Seek(long position) => Position = position;

    private void FillRow(long index, Span<float> row)
    {
        var rng = new DeterministicRandom(_seed * 0x9E3779B97F4A7C15UL + (ulong)index);
        _offset.CopyTo(row);
        for (int a = 0; a < AtomCount; a++)
            if (rng.NextDouble() < _activeProbability)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(
                    Atoms.AsSpan(a * DIn, DIn), (float)(0.5 + rng.NextDouble()), row, row);
        System.Numerics.Tensors.TensorPrimitives.Multiply(row, _gain, row);
    }
}
