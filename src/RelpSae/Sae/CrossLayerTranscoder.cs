using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Sae;

/// <summary>
/// A cross-layer transcoder (circuit-tracer's CrossLayerTranscoder): layer l's features f_l = act(x_l·W_enc_l + b_enc_l)
/// are encoded from layer l's MLP input x_l and write to the MLP outputs of layers l..L−1, so layer l's output is predicted
/// as ŷ_l = b_dec_l + Σ_{l'≤l} f_{l'}·W_dec[l'→l]. Each layer's encoder, activation (ReLU or JumpReLU), own decoder
/// W_dec[l→l] and output bias b_dec_l are an <see cref="SparseAutoencoder"/>'s (<see cref="Encoders"/>); the decoders to
/// later layers sit beside it (<see cref="Decoder"/>).
/// </summary>
public sealed class CrossLayerTranscoder
{
    private readonly float[][][] decoders;

    /// <param name="encoders">Layer l's encoder, W_dec[l→l] and b_dec_l.</param>
    /// <param name="laterDecoders">laterDecoders[l][k] is W_dec[l→l+1+k] [d_sae × d_model].</param>
    /// <param name="inputHook">The hook each layer's features read, without the blocks.N. prefix (e.g. hook_resid_mid).</param>
    /// <param name="outputHook">The hook each layer's prediction stands in for (e.g. hook_mlp_out).</param>
    public CrossLayerTranscoder(IReadOnlyList<SparseAutoencoder> encoders, float[][][] laterDecoders, string inputHook, string outputHook)
    {
        int layers = encoders.Count;
        if (layers == 0 || laterDecoders.Length != layers) throw new ArgumentException($"{layers} encoders and {laterDecoders.Length} decoder lists", nameof(laterDecoders));
        int d = encoders[0].DIn, n = encoders[0].DSae;
        decoders = new float[layers][][];
        for (int l = 0; l < layers; l++)
        {
            if (encoders[l].DIn != d || encoders[l].DSae != n || encoders[l].Config.ApplyBDecToInput)
                throw new ArgumentException($"layer {l}'s encoder is not {d} → {n} with an output bias", nameof(encoders));
            if (laterDecoders[l].Length != layers - 1 - l || laterDecoders[l].Any(w => w.Length != (long)n * d))
                throw new ArgumentException($"layer {l} needs {layers - 1 - l} decoders of {n}×{d}", nameof(laterDecoders));
            decoders[l] = [encoders[l].WDec, .. laterDecoders[l]];
        }
        Encoders = encoders;
        InputHook = inputHook;
        OutputHook = outputHook;
    }

    public IReadOnlyList<SparseAutoencoder> Encoders { get; }
    public string InputHook { get; }
    public string OutputHook { get; }
    public int Layers => Encoders.Count;
    public int DModel => Encoders[0].DIn;
    /// <summary>Features per layer.</summary>
    public int DSae => Encoders[0].DSae;

    /// <summary>W_dec[<paramref name="source"/>→<paramref name="target"/>] [d_sae × d_model], target ≥ source.</summary>
    public float[] Decoder(int source, int target) => decoders[source][target - source];

    /// <summary>
    /// Layer <paramref name="layer"/>'s prediction ŷ [n × d_model] from every layer's features [n × d_sae]
    /// (<paramref name="features"/>[l'] for l' ≤ layer).
    /// </summary>
    public float[] Output(int layer, IReadOnlyList<float[]> features)
    {
        var y = Encoders[layer].Decode(features[layer]);
        int n = y.Length / DModel;
        for (int source = 0; source < layer; source++)
            Gemm.Multiply(Matrix.Of(features[source], n, DSae), Matrix.Of(Decoder(source, layer), DSae, DModel), Matrix.Into(y, n, DModel), accumulate: true);
        return y;
    }

    /// <summary>
    /// Where each layer's features read and write in the model of <paramref name="facts"/>, checked as a single-layer
    /// transcoder's are (<see cref="Transcoder.Hooks"/>), refused in one line naming <paramref name="source"/> when the
    /// model has another number of layers.
    /// </summary>
    public (HookPoint Input, HookPoint Output)[] Hooks(ModelFacts facts, string source)
    {
        if (facts.NLayers != Layers)
            throw new RelpSaeException($"{source}: the cross-layer transcoder has {Layers} layers but the model has {facts.NLayers}");
        return Enumerable.Range(0, Layers)
            .Select(l => new Transcoder(Encoders[l], $"blocks.{l}.{InputHook}", $"blocks.{l}.{OutputHook}").Hooks(facts, source)).ToArray();
    }
}
