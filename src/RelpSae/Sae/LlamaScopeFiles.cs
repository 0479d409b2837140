using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>
/// Llama Scope's SAEs (OpenMOSS, for Llama-3.1 8B), loaded as SAELens' llama_scope converter loads them: a folder
/// holding hyperparams.json and checkpoints/final.safetensors (encoder.weight [d_sae, d_model], encoder.bias,
/// decoder.weight [d_model, d_sae], decoder.bias). They were trained on activations scaled to an average norm of
/// √d_model (norm_activation "dataset-wise", dataset_average_activation_norm.in), with one JumpReLU threshold for
/// every feature. SAELens folds the scale s = √d_model / norm_in into the weights (W_enc·s, W_dec/s, b_dec/s; b_enc as
/// it is) and scales the threshold to θ·s, as Llama Scope's authors set it there; so does this, and the SAE reads
/// and writes the model's own activations.
/// </summary>
public static class LlamaScopeFiles
{
    public const string HyperparamsFile = "hyperparams.json";
    public static readonly string WeightsFile = Path.Combine("checkpoints", "final.safetensors");

    public static SparseAutoencoder Load(string folder)
    {
        var hp = ConfigJson.Read(Path.Combine(folder, HyperparamsFile));
        int dModel = hp.Positive("d_model"), dSae = hp.Positive("d_sae");
        hp.CheckFits("d_sae", "the encoder", dSae, dModel);
        string hook = hp.String("hook_point_in");
        // SAELens reads only the keys above and the two below, and assumes the rest: a file that says otherwise is refused, not misread.
        if (hp.String("act_fn", "jumprelu") is var act and not "jumprelu")
            throw hp.Error("act_fn", $"is \"{act}\"; Llama Scope SAEs load as JumpReLU (jumprelu)");
        if (hp.Bool("apply_decoder_bias_to_pre_encoder", false))
            throw hp.Error("apply_decoder_bias_to_pre_encoder", "is true; Llama Scope SAEs load without subtracting decoder.bias from the input");
        if (hp.String("norm_activation", "dataset-wise") is var norm and not "dataset-wise")
            throw hp.Error("norm_activation", $"is \"{norm}\"; Llama Scope SAEs load with the dataset-wise norm (dataset-wise)");
        if (hp.String("hook_point_out", hook) is var hookOut && hookOut != hook)
            throw hp.Error("hook_point_out", $"is \"{hookOut}\", not hook_point_in \"{hook}\": a transcoder, not an SAE");
        var norms = hp.Section("dataset_average_activation_norm");
        double normIn = norms.PositiveFloat32("in");
        if (norms.Number("out", normIn) is var normOut && normOut != normIn)
            throw norms.Error("out", $"is {normOut}, not in ({normIn}): SAELens scales the output by in");
        double threshold = hp.Number("jump_relu_threshold");
        if (threshold < 0) throw hp.Error("jump_relu_threshold", $"is {threshold}; a JumpReLU threshold must be >= 0");
        double scale = Math.Sqrt(dModel) / normIn;

        string weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath)) throw new RelpSaeException($"{weightsPath}: no such file");
        using var weights = SafetensorsFile.Open(weightsPath);
        var expected = new Dictionary<string, int[]>
        {
            ["encoder.weight"] = [dSae, dModel], ["encoder.bias"] = [dSae], ["decoder.weight"] = [dModel, dSae], ["decoder.bias"] = [dModel],
        };
        foreach (var (name, shape) in expected)
        {
            var e = weights.Contains(name) ? weights.Entry(name) : throw new RelpSaeException($"{weightsPath}: tensor '{name}' is missing (not a Llama Scope SAE)");
            if (!e.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{weightsPath}: tensor '{name}' has shape [{string.Join(", ", e.Shape)}]; {HyperparamsFile}'s d_model {dModel} and d_sae {dSae} imply [{string.Join(", ", shape)}]");
            if (!e.DType.IsFloat())
                throw new RelpSaeException($"{weightsPath}: tensor '{name}' is {e.DType}; SAE weights must be floating point");
        }
        // Other tensors are not read, as SAELens reads none.
        var config = new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = dModel, DSae = dSae, ApplyBDecToInput = false, HookName = hook };
        return SparseAutoencoder.FromTensors(config,
        [
            new FloatTensor("W_enc", [dModel, dSae], CommunitySaeFiles.Transpose(weights.ReadFloat("encoder.weight").Data, dSae, dModel, scale)),
            weights.ReadFloat("encoder.bias") with { Name = "b_enc" },
            new FloatTensor("W_dec", [dSae, dModel], CommunitySaeFiles.Transpose(weights.ReadFloat("decoder.weight").Data, dModel, dSae, 1 / scale)),
            new FloatTensor("b_dec", [dModel], [.. weights.ReadFloat("decoder.bias").Data.Select(b => (float)(b / scale))]),
            new FloatTensor("threshold", [dSae], Enumerable.Repeat((float)(threshold * scale), dSae).ToArray()),
        ], weightsPath);
    }
}
