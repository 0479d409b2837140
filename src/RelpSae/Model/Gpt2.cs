using System.Numerics.Tensors;
using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// GPT-2 (Hugging Face semantics, DESIGN §3), forward pass written out block by block. A forward starts
/// from token ids, or from a residual-stream hook point with a replaced activation (patching and
/// integrated gradients re-run only the blocks after the hook); <see cref="Gpt2Run"/> holds the result.
/// </summary>
public sealed class Gpt2(Gpt2Weights weights) : ITransformer
{
    public Gpt2Weights Weights { get; } = weights;
    public Gpt2Config Config => Weights.Config;

    public ModelFacts Facts => new("GPT2LMHeadModel", Config.VocabSize, Config.NPositions, Config.DModel, Config.NLayers, Config.NHeads,
        Config.DHead, Config.DMlp, Config.BosTokenId, GatedMlp: false, ParallelResidual: false, ContextKey: "n_positions", WidthKey: "n_embd", LearnedPositions: true);

    ITransformerRun ITransformer.Forward(ReadOnlySpan<int> tokens, int batch, RunOptions? options) => Forward(tokens, batch, options);

    ITransformerRun ITransformer.ForwardFrom(HookPoint start, ReadOnlySpan<float> activation, int batch, int tokens, RunOptions? options) =>
        ForwardFrom(start, activation, batch, tokens, options);

    /// <summary>Buffers of disposed runs, kept for the next pass of the same shape (up to 1 GiB).</summary>
    internal FloatPool Pool { get; } = new(1L << 28);

    /// <summary>Loads a Hugging Face checkpoint folder (config.json + model.safetensors or pytorch_model.bin).</summary>
    public static Gpt2 Load(string dir, bool centerWritingWeights = false)
    {
        var checkpoint = HfCheckpoint.Load(dir);
        var weights = Gpt2Weights.FromTensors(checkpoint.Config, checkpoint.Tensors);
        if (centerWritingWeights) weights.CenterWritingWeights();
        return new Gpt2(weights);
    }

    /// <summary>Forward from token ids laid out [batch × tokens].</summary>
    public Gpt2Run Forward(ReadOnlySpan<int> tokens, int batch, RunOptions? options = null)
    {
        if (batch <= 0 || tokens.Length == 0 || tokens.Length % batch != 0)
            throw new ArgumentException($"{tokens.Length} token ids do not split into {batch} equal sequences");
        int T = tokens.Length / batch;
        CheckLength(T);
        var run = new Gpt2Run(this, batch, T, null, options ?? new RunOptions());
        int d = Config.DModel;
        var x = run.Residual;
        for (int r = 0; r < tokens.Length; r++)
        {
            int id = tokens[r];
            if ((uint)id >= (uint)Config.VocabSize)
                throw new RelpSaeException($"token id {id} is outside the model's vocabulary (0..{Config.VocabSize - 1})");
            Weights.Wte.AsSpan(id * d, d).CopyTo(x.AsSpan(r * d, d));
        }
        run.Hook(new HookPoint(HookKind.Embed, -1), x);
        if (run.Wants(new HookPoint(HookKind.PosEmbed, -1)))
        {
            var pos = new float[x.Length];
            for (int r = 0; r < tokens.Length; r++) Weights.Wpe.AsSpan(r % T * d, d).CopyTo(pos.AsSpan(r * d, d));
            run.Hook(new HookPoint(HookKind.PosEmbed, -1), pos);
        }
        for (int r = 0; r < tokens.Length; r++)
            TensorPrimitives.Add(x.AsSpan(r * d, d), Weights.Wpe.AsSpan(r % T * d, d), x.AsSpan(r * d, d));
        RunBlocks(run, 0, mlpOnly: false);
        return run;
    }

    /// <summary>
    /// The activation at <paramref name="hook"/> for token ids [batch × tokens], computing nothing after it:
    /// the prefix to run once before many <see cref="ForwardFrom"/> / <see cref="Gpt2Run.Rerun"/> calls.
    /// </summary>
    public float[] ActivationAt(HookPoint hook, ReadOnlySpan<int> tokens, int batch)
    {
        using var run = Forward(tokens, batch, new RunOptions { Cache = [hook], StopAfter = hook, Logits = LogitRows.None });
        return run.Cached(hook);
    }

    /// <summary>
    /// Forward from a residual hook point (blocks.L.hook_resid_pre|mid|post) whose activation
    /// [batch × tokens × d_model] is given: only the computation after the hook runs. To run again from
    /// the same hook with other activations, call <see cref="Gpt2Run.Rerun"/> on the result: it reuses
    /// every buffer.
    /// </summary>
    public Gpt2Run ForwardFrom(HookPoint start, ReadOnlySpan<float> activation, int batch, int tokens, RunOptions? options = null)
    {
        if (!start.IsResidual)
            throw new RelpSaeException($"a forward pass can restart only from a residual hook (hook_resid_pre/mid/post), not {start}");
        CheckLength(tokens);
        var run = new Gpt2Run(this, batch, tokens, start, options ?? new RunOptions());
        RunFrom(run, start, activation);
        return run;
    }

    /// <summary>The blocks after <paramref name="start"/> on <paramref name="run"/>'s buffers, from a new activation.</summary>
    internal void RunFrom(Gpt2Run run, HookPoint start, ReadOnlySpan<float> activation)
    {
        run.Reset();
        CleanPrefix.CopyComputedRows(activation, run.Residual, run.Batch, run.Tokens, run.First, Config.DModel);
        var (layer, mlpOnly) = start.Restart;
        RunBlocks(run, layer, mlpOnly);
    }

    private void CheckLength(int tokens)
    {
        if (tokens > Config.NPositions)
            throw new RelpSaeException($"a sequence of {tokens} tokens is longer than the model's context of {Config.NPositions} (n_positions)");
    }

    private void RunBlocks(Gpt2Run run, int firstLayer, bool mlpOnly)
    {
        for (int l = firstLayer; l < Config.NLayers; l++)
        {
            if (!Block(run, l, mlpOnly && l == firstLayer)) return;
        }
        run.Finish();
    }

    /// <summary>One transformer block on the residual rows in place; false once the run's StopAfter hook is reached.</summary>
    private bool Block(Gpt2Run run, int l, bool mlpOnly)
    {
        var c = Config;
        var w = Weights.Layers[l];
        var packed = Weights.Packed.Forward(l);
        var s = run.Layer(l);
        var x = run.Residual;
        int n = run.Rows, d = c.DModel, m = c.DMlp;

        if (!mlpOnly)
        {
            if (!run.Hook(new HookPoint(HookKind.ResidPre, l), x)) return false;
            LayerNorm.ForwardInBands(x, s.Ln1Hat, s.Ln1Rstd, run.LnOut, w.Ln1Gamma, w.Ln1Beta, n, c.LayerNormEps);
            Linear(run.LnOut, packed.Qkv, w.BQkv, s.Qkv, n);
            // Rows before the first computed one are the clean run's: their keys and values are its own.
            run.Attention(run.Clean?.Layer(l).Qkv, s.Qkv, s.Pattern, run.Z);
            if (!run.Hook(new HookPoint(HookKind.AttnPattern, l), s.Pattern)) return false;
            if (!run.Hook(new HookPoint(HookKind.AttnZ, l), run.Z)) return false;
            if (run.TailRows(l) is { } rows)
            {
                LinearRows(run.Z, packed.O, w.BO, run.Out, rows);
                AddRows(x, run.Out, rows, d);
            }
            else
            {
                Linear(run.Z, packed.O, w.BO, run.Out, n);
                if (!run.Hook(new HookPoint(HookKind.AttnOut, l), run.Out)) return false;
                AddRows(x, run.Out, n, d);
                if (!run.Hook(new HookPoint(HookKind.ResidMid, l), x)) return false;
            }
        }
        if (run.TailRows(l) is { } tail)
        {
            MlpRows(run, l, tail);
            return true;
        }
        LayerNorm.ForwardInBands(x, s.Ln2Hat, s.Ln2Rstd, run.LnOut, w.Ln2Gamma, w.Ln2Beta, n, c.LayerNormEps);
        Linear(run.LnOut, packed.Fc, w.BFc, s.Pre, n);
        RowBands.For(n, m, (r0, r1) => Gelu.Forward(s.Pre.AsSpan(r0 * m, (r1 - r0) * m), s.Post.AsSpan(r0 * m, (r1 - r0) * m)));
        if (!run.Hook(new HookPoint(HookKind.MlpPost, l), s.Post)) return false;
        Linear(s.Post, packed.Proj, w.BProj, run.Out, n);
        if (!run.Hook(new HookPoint(HookKind.MlpOut, l), run.Out)) return false;
        AddRows(x, run.Out, n, d);
        return run.Hook(new HookPoint(HookKind.ResidPost, l), x);
    }

    /// <summary>
    /// The MLP and its residual add on <paramref name="rows"/> alone (<see cref="RunOptions.OutputPositions"/>):
    /// each step works row by row, so these rows come out as in the full pass, bit for bit.
    /// </summary>
    private void MlpRows(Gpt2Run run, int l, int[] rows)
    {
        var c = Config;
        var w = Weights.Layers[l];
        var packed = Weights.Packed.Forward(l);
        var s = run.Layer(l);
        var x = run.Residual;
        int d = c.DModel, m = c.DMlp;
        foreach (int r in rows)
            LayerNorm.Forward(x.AsSpan(r * d, d), s.Ln2Hat.AsSpan(r * d, d), s.Ln2Rstd.AsSpan(r, 1), run.LnOut.AsSpan(r * d, d), w.Ln2Gamma, w.Ln2Beta, 1, c.LayerNormEps);
        LinearRows(run.LnOut, packed.Fc, w.BFc, s.Pre, rows);
        foreach (int r in rows) Gelu.Forward(s.Pre.AsSpan(r * m, m), s.Post.AsSpan(r * m, m));
        LinearRows(s.Post, packed.Proj, w.BProj, run.Out, rows);
        AddRows(x, run.Out, rows, d);
    }

    /// <summary>
    /// <see cref="Linear"/> on some rows of x into the same rows of y: gathered, multiplied, scattered. A row of a
    /// product with a packed B does not depend on how many rows are multiplied with it, so each equals the full product's.
    /// </summary>
    private void LinearRows(float[] x, PackedMatrix weight, float[] bias, float[] y, int[] rows)
    {
        int inDim = weight.Rows, outDim = weight.Cols, k = rows.Length;
        var a = Pool.Rent(k * inDim);
        var product = Pool.Rent(k * outDim);
        SelectedRows.Gather(x, rows, inDim, a);
        Linear(a, weight, bias, product, k);
        SelectedRows.Scatter(product, rows, outDim, y);
        Pool.Return(a);
        Pool.Return(product);
    }

    /// <summary>y[n×out] = x[n×in]·W[in×out] + b (HF Conv1D), W packed, the bias added as the product is stored.</summary>
    private static void Linear(float[] x, PackedMatrix weight, float[] bias, float[] y, int rows) =>
        Gemm.MultiplyAddBias(rows, x, weight.Rows, weight, bias, y, weight.Cols);

    /// <summary>The residual add x += y on some rows of width d.</summary>
    private static void AddRows(float[] x, float[] y, int[] rows, int d)
    {
        foreach (int r in rows) TensorPrimitives.Add(x.AsSpan(r * d, d), y.AsSpan(r * d, d), x.AsSpan(r * d, d));
    }

    /// <summary>The residual add x += y on rows [0, rows) of width d, in bands of rows per thread (element-wise: the same sums).</summary>
    private static void AddRows(float[] x, float[] y, int rows, int d) =>
        RowBands.For(rows, d, (r0, r1) => TensorPrimitives.Add(x.AsSpan(r0 * d, (r1 - r0) * d), y.AsSpan(r0 * d, (r1 - r0) * d), x.AsSpan(r0 * d, (r1 - r0) * d)));
}
