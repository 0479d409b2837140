using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Sae;

/// <summary>
/// A transcoder: a sparse dictionary that reads the activation x at one hook (an MLP's input) and predicts the one at
/// another (that MLP's output), as circuit-tracer's per-layer transcoders and Gemma Scope's do:
/// f = act(x·W_enc + b_enc), ŷ = f·W_dec + b_dec (+ x·W_skipᵀ with a skip connection). Encoder, decoder and activation
/// (ReLU, JumpReLU, TopK) are a <see cref="SparseAutoencoder"/>'s whose input is never shifted by b_dec, which lives at
/// the output; input and output are equally wide (an MLP's, d_model).
/// </summary>
public sealed class Transcoder
{
    public Transcoder(SparseAutoencoder dictionary, string inputHook, string outputHook, float[]? skip = null)
    {
        if (dictionary.Config.ApplyBDecToInput) throw new ArgumentException("a transcoder's b_dec is an output bias: its input is not shifted by it", nameof(dictionary));
        if (skip is not null && skip.Length != (long)dictionary.DIn * dictionary.DIn)
            throw new ArgumentException($"W_skip holds {skip.Length} values, not {dictionary.DIn}×{dictionary.DIn}", nameof(skip));
        Dictionary = dictionary;
        InputHook = inputHook;
        OutputHook = outputHook;
        Skip = skip;
    }

    public SparseAutoencoder Dictionary { get; }
    /// <summary>TransformerLens (or circuit-tracer) name of the hook read, e.g. blocks.3.ln2.hook_normalized.</summary>
    public string InputHook { get; }
    /// <summary>Name of the hook predicted, e.g. blocks.3.hook_mlp_out.</summary>
    public string OutputHook { get; }
    /// <summary>W_skip [d_out × d_in]: the skip connection adds x·W_skipᵀ; null without one.</summary>
    public float[]? Skip { get; }
    public int DIn => Dictionary.DIn;
    public int DSae => Dictionary.DSae;

    /// <summary>Features f [n × d_sae] of the input hook's activations x [n × d_in].</summary>
    public float[] Encode(ReadOnlySpan<float> input) => Dictionary.Encode(input);

    /// <summary>The prediction ŷ [n × d_out] from features f [n × d_sae] and the input x [n × d_in] (which the skip connection reads).</summary>
    public float[] Output(ReadOnlySpan<float> features, ReadOnlySpan<float> input)
    {
        var y = Dictionary.Decode(features);
        if (Skip is not null)
        {
            int n = y.Length / DIn;
            if (input.Length != y.Length) throw new ArgumentException($"{input.Length} input values for {n} rows of {DIn}", nameof(input));
            Gemm.Multiply(Matrix.Of(input, n, DIn), Matrix.Of(Skip, DIn, DIn).T, Matrix.Into(y, n, DIn), accumulate: true);
        }
        return y;
    }

    /// <summary>
    /// Where the transcoder reads and writes in the model of <paramref name="facts"/>, refused in one line naming
    /// <paramref name="source"/>: a hook the model lacks, an output that is not an MLP's (hook_mlp_out or mlp.hook_out), an
    /// input that is not that MLP's (hook_resid_mid — resid_pre with parallel attention — hook_mlp_in, ln2.hook_normalized,
    /// mlp.hook_in), or a hook of another width than the transcoder's.
    /// </summary>
    public (HookPoint Input, HookPoint Output) Hooks(ModelFacts facts, string source) => Hooks(facts, InputHook, OutputHook, DIn, source);

    /// <summary>As <see cref="Hooks(ModelFacts, string)"/>, for a transcoder of width <paramref name="width"/> reading
    /// <paramref name="inputHook"/> and writing <paramref name="outputHook"/> (one about to be trained).</summary>
    public static (HookPoint Input, HookPoint Output) Hooks(ModelFacts facts, string inputHook, string outputHook, int width, string source)
    {
        var output = Parse(facts, outputHook, source);
        if (output.Kind is not (HookKind.MlpOut or HookKind.MlpHookOut))
            throw new RelpSaeException($"{source}: the transcoder writes {output}; a transcoder stands in for an MLP and writes its output (blocks.L.hook_mlp_out or blocks.L.mlp.hook_out)");
        var input = Parse(facts, inputHook, source);
        var residual = facts.ParallelResidual ? HookKind.ResidPre : HookKind.ResidMid;
        if (input.Layer != output.Layer || input.Kind != residual && input.Kind is not (HookKind.MlpResidualIn or HookKind.Ln2Normalized or HookKind.MlpHookIn))
            throw new RelpSaeException($"{source}: the transcoder reads {input} but writes {output}: it must read that MLP's input "
                + $"(blocks.{output.Layer}.hook_resid_{(facts.ParallelResidual ? "pre" : "mid")}, hook_mlp_in, ln2.hook_normalized or mlp.hook_in)");
        foreach (var hook in new[] { input, output })
            if (facts.Width(hook, 1) != width)
                throw new RelpSaeException($"{source}: the transcoder is {width} wide but {hook} holds {facts.Width(hook, 1)} values a position ({facts.WidthKey})");
        return (input, output);
    }

    private static HookPoint Parse(ModelFacts facts, string name, string source)
    {
        try { return facts.ParseHook(name); }
        catch (RelpSaeException e) { throw new RelpSaeException($"{source}: {e.Message}", e); }
    }
}
