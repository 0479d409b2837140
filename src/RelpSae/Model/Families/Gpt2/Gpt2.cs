using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// GPT-2 (GPT2LMHeadModel; Hugging Face semantics), forward pass block by block:
/// <code>
/// x = W_te[tokens] + W_pe[positions]
/// a = LN₁(x);  q | k | v = a·W_attn + b;  z = softmax(q·kᵀ/√d_head + mask)·v;  x += z·W_O + b
/// a = LN₂(x);  x += gelu_new(a·W_fc + b)·W_proj + b
/// </code>
/// logits = LN_f(x)·W_teᵀ (the unembedding tied to the token embedding).
/// </summary>
public sealed partial class Gpt2 : StackedTransformer<Gpt2Activations>
{
    public Gpt2(Gpt2Weights weights) : base(weights.Config.Facts)
    {
        Weights = weights;
    }

    public Gpt2Weights Weights { get; }
    public Gpt2Config Config => Weights.Config;
    internal override void EmbeddingRow(int id, Span<float> into) => Weights.TokenVector(id, into);
    internal override Linear Unembed => Weights.Unembed;

    /// <summary>
    /// Loads a Hugging Face checkpoint folder (config.json + model.safetensors, its shards or pytorch_model.bin), its matrices
    /// held as <paramref name="holding"/> (null: as stored; see <see cref="CheckpointTensors.Holding"/>).
    /// </summary>
    public static Gpt2 Load(string dir, bool centerWritingWeights = false, Numerics.PanelElement? holding = null)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        return LanguageModels.FromCheckpoint(dir, ConfigJson.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile)), holding, Gpt2Config.Parse,
            (c, t, by) => FromTensors(c, t, by, centerWritingWeights));
    }

    /// <summary>The model of <paramref name="tensors"/>, its writing weights centred when <paramref name="centerWritingWeights"/>.</summary>
    internal static Gpt2 FromTensors(Gpt2Config config, CheckpointTensors tensors, string configPath, bool centerWritingWeights)
    {
        var weights = Gpt2Weights.FromTensors(config, tensors, configPath);
        if (centerWritingWeights) weights.CenterWritingWeights();
        return new Gpt2(weights);
    }

    internal override Gpt2Activations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    /// <summary>The learned position embedding added to the token embedding (with its hook_pos_embed).</summary>
    internal override bool Positions(BlockRun<Gpt2Activations> run)
    {
        int d = Config.DModel, T = run.Tokens, rows = run.Rows;
        var pos = Pool.Rent(rows * d);
        RowSet.All(rows).For(d, (first, _, count) =>
        {
            for (int r = first; r < first + count; r++) Weights.PositionVector(r % T, pos.AsSpan(r * d, d));
        });
        var positions = new HookPoint(HookKind.PosEmbed, -1);
        bool go = !run.Wants(positions) || run.Hook(positions, pos);   // read only: hook_pos_embed cannot be patched
        if (go) RowSteps.Add(RowSet.All(rows), d, run.Residual, pos);
        Pool.Return(pos);
        return go;
    }

    internal override bool Attention(BlockRun<Gpt2Activations> run, int l)
    {
        var (w, s, n) = (Weights.Layers[l], run.Layer(l), run.Rows);
        RowSteps.LayerNorm(RowSet.All(n), run.Residual, s.Ln1Hat, s.Ln1Rstd, run.Normed, w.Ln1Gamma, w.Ln1Beta, Config.LayerNormEps);
        w.Qkv.Apply(run.Normed, n, s.Qkv, 3 * Config.DModel);
        if (!run.Attend(l)) return false;
        var rows = run.RowsPastAttention(l);
        w.O.Apply(run.Z, rows, run.Out, Pool);
        return run.AddBranch(l, rows, run.Out, HookKind.AttnOut, HookKind.ResidMid);
    }

    internal override bool Mlp(BlockRun<Gpt2Activations> run, int l, RowSet rows)
    {
        var (w, s) = (Weights.Layers[l], run.Layer(l));
        if (run.MlpResidualIn(l, rows) is not { } input) return false;
        RowSteps.LayerNorm(rows, input, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.Ln2Gamma, w.Ln2Beta, Config.LayerNormEps);
        if (!run.MlpNormHooks(l, rows, s.Ln2Hat, w.Ln2Gamma, w.Ln2Beta)) return false;
        w.Fc.Apply(run.Normed, rows, s.Pre, Pool);
        RowSteps.Map(rows, Config.DMlp, s.Pre, s.Post, Gelu.Forward);
        if (!run.Hook(HookKind.MlpPost, l, s.Post)) return false;
        w.Proj.Apply(s.Post, rows, run.Out, Pool);
        return run.Hook(HookKind.MlpHookOut, l, run.Out) && run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<Gpt2Activations> run, RowSet rows) =>
        RowSteps.LayerNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.LnFGamma, Weights.LnFBeta, Config.LayerNormEps);
}
