using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

/// <summary>Llama Scope folders and Gemma Scope 2 files of fixed pseudo-random weights, each laid out as its project publishes it.</summary>
internal static class ScopeSaeFixtures
{
    private static float[] Values(long n, int seed) => [.. Enumerable.Range(0, (int)n).Select(i => 0.3f * MathF.Sin(0.37f * i + seed))];

    private static FloatTensor Tensor(string name, int[] shape, int seed) => new(name, shape, Values(shape.Aggregate(1L, (a, b) => a * b), seed));

    /// <summary>
    /// A Llama Scope SAE in <paramref name="folder"/>: hyperparams.json as OpenMOSS writes it (then changed by
    /// <paramref name="edit"/>) and checkpoints/final.safetensors (encoder.weight of <paramref name="encoderShape"/> if given).
    /// </summary>
    public static string LlamaScope(string folder, int dModel, int dSae, string hook, Action<JsonObject>? edit = null, int[]? encoderShape = null)
    {
        Directory.CreateDirectory(Path.Combine(folder, "checkpoints"));
        var hyperparams = new JsonObject
        {
            ["d_model"] = dModel, ["d_sae"] = dSae, ["act_fn"] = "jumprelu", ["jump_relu_threshold"] = 0.05, ["top_k"] = 50,
            ["norm_activation"] = "dataset-wise", ["dataset_average_activation_norm"] = new JsonObject { ["in"] = 2.5, ["out"] = 2.5 },
            ["apply_decoder_bias_to_pre_encoder"] = false, ["use_decoder_bias"] = true, ["hook_point_in"] = hook, ["hook_point_out"] = hook,
        };
        edit?.Invoke(hyperparams);
        File.WriteAllText(Path.Combine(folder, LlamaScopeFiles.HyperparamsFile), hyperparams.ToJsonString());
        SafetensorsWriter.Write(Path.Combine(folder, LlamaScopeFiles.WeightsFile),
        [
            Tensor("encoder.weight", encoderShape ?? [dSae, dModel], 1), Tensor("encoder.bias", [dSae], 2),
            Tensor("decoder.weight", [dModel, dSae], 3), Tensor("decoder.bias", [dModel], 4),
        ]);
        return folder;
    }

    /// <summary>A Gemma Scope 2 params.safetensors at <paramref name="file"/>, its tensors <paramref name="change"/>d (one dropped when it returns null).</summary>
    public static string GemmaScope2(string file, int dIn, int dSae, Func<FloatTensor, FloatTensor?>? change = null, FloatTensor? extra = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        FloatTensor[] tensors =
        [
            Tensor("w_enc", [dIn, dSae], 1), Tensor("w_dec", [dSae, dIn], 2), Tensor("b_enc", [dSae], 3), Tensor("b_dec", [dIn], 4),
            new("threshold", [dSae], new float[dSae]),
        ];
        SafetensorsWriter.Write(file, tensors.Select(t => change is null ? t : change(t)).OfType<FloatTensor>().Concat(extra is null ? [] : [extra]));
        return file;
    }
}
