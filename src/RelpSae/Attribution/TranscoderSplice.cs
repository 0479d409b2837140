using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Attribution;

/// <summary>
/// A transcoder spliced into the model in place of its MLP for one prompt: the MLP's true output y (at the transcoder's
/// output hook) splits into the transcoder's prediction ŷ = decode(f) (+ x·W_skipᵀ) from the features f = encode(x) of the
/// input hook's activation x, and an error node ε = y − ŷ held as its own leaf. A pass with <see cref="Replacement"/>
/// writes ŷ + ε at the output hook, so the model computes what it did, to float rounding, while its MLP's output is a
/// function of the features. Everything is [tokens × d_model], one prompt.
/// </summary>
public sealed class TranscoderSplice
{
    private TranscoderSplice(Transcoder transcoder, HookPoint input, HookPoint output, int tokens, float[] x, float[] y)
    {
        Transcoder = transcoder;
        InputHook = input;
        OutputHook = output;
        Tokens = tokens;
        Input = x;
        TrueOutput = y;
        Features = transcoder.Encode(x);
        Error = transcoder.Output(Features, x);
        TensorPrimitives.Subtract(y, Error, Error);
    }

    public Transcoder Transcoder { get; }
    public HookPoint InputHook { get; }
    public HookPoint OutputHook { get; }
    public int Tokens { get; }
    /// <summary>The activation x at the input hook.</summary>
    public float[] Input { get; }
    /// <summary>The MLP's output y at the output hook.</summary>
    public float[] TrueOutput { get; }
    public float[] Features { get; }
    /// <summary>ε = y − ŷ: what the transcoder misses of the MLP's output.</summary>
    public float[] Error { get; }

    /// <summary>
    /// Runs the prompt up to the transcoder's output hook and splits the MLP's output there; <paramref name="source"/>
    /// (the transcoder's file) names the fault when its hooks are not the model's (<see cref="Transcoder.Hooks"/>).
    /// </summary>
    public static TranscoderSplice Create(ITransformer model, Transcoder transcoder, string source, int[] tokens)
    {
        var (input, output) = transcoder.Hooks(model.Facts, source);
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = [input, output], StopAfter = output, Logits = LogitRows.None });
        return new TranscoderSplice(transcoder, input, output, tokens.Length, run.Cached(input), run.Cached(output));
    }

    /// <summary>
    /// Every transcoder of <paramref name="transcoders"/> (each with the file it came from, for errors) spliced from one
    /// clean pass of the prompt: an attribution graph's nodes at every layer at the cost of one forward pass.
    /// </summary>
    public static TranscoderSplice[] CreateAll(ITransformer model, IReadOnlyList<(Transcoder Transcoder, string Source)> transcoders, int[] tokens)
    {
        var hooks = transcoders.Select(t => t.Transcoder.Hooks(model.Facts, t.Source)).ToArray();
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = [.. hooks.SelectMany(h => new[] { h.Input, h.Output })], Logits = LogitRows.None });
        return [.. transcoders.Select((t, i) => new TranscoderSplice(t.Transcoder, hooks[i].Input, hooks[i].Output, tokens.Length, run.Cached(hooks[i].Input), run.Cached(hooks[i].Output)))];
    }

    /// <summary>
    /// The rewrite (<see cref="RunOptions.Rewrite"/>) that puts the transcoder in the MLP's place in a one-prompt pass: at the
    /// output hook, decode(<paramref name="features"/>) (+ the skip connection of the clean input) + ε; the clean features
    /// when none are given, which reproduces the model.
    /// </summary>
    public IActivationRewrite Replacement(float[]? features = null)
    {
        features ??= Features;
        if (features.Length != Features.Length)
            throw new ArgumentException($"{features.Length} feature values for {Tokens} tokens of {Transcoder.DSae} features", nameof(features));
        return new MlpReplacement(this, features);
    }

    private sealed class MlpReplacement(TranscoderSplice splice, float[] features) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (hook != splice.OutputHook) return;
            if (batch != 1 || tokens != splice.Tokens)
                throw new ArgumentException($"the transcoder was spliced for one prompt of {splice.Tokens} tokens, not {batch} of {tokens}");
            var y = splice.Transcoder.Output(features, splice.Input);
            TensorPrimitives.Add(y, splice.Error, activation.AsSpan(0, y.Length));
        }
    }
}
