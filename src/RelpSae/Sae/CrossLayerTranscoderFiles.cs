using System.Text.RegularExpressions;
using RelpSae.Formats;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// Cross-layer transcoders in circuit-tracer's layout (what CrossLayerTranscoder.to_safetensors writes and load_clt reads):
/// a folder of W_enc_i.safetensors (W_enc_i [d_sae, d_model], b_enc_i [d_sae], b_dec_i [d_model], optionally threshold_i
/// [d_sae] for JumpReLU, else ReLU) and W_dec_i.safetensors (W_dec_i [d_sae, n_layers − i, d_model]: layer i's features'
/// decoders to layers i..n_layers−1), one pair per layer, and the config.yaml circuit-tracer's Hub repositories ship
/// (model_kind: cross_layer_transcoder, feature_input_hook, feature_output_hook, without the blocks.N. prefix; without a
/// config.yaml, load_clt's defaults hook_resid_mid and hook_mlp_out). Every file's header is checked, and the whole
/// transcoder's size against the memory available, before any tensor is read.
/// </summary>
public static class CrossLayerTranscoderFiles
{
    public const string ModelKind = "cross_layer_transcoder";
    private const string DefaultInputHook = "hook_resid_mid", DefaultOutputHook = "hook_mlp_out";
    private const int FeaturesPerRead = 256;

    /// <summary>Whether <paramref name="path"/> is a cross-layer transcoder's folder: it holds W_enc_0.safetensors, or its config.yaml says model_kind: cross_layer_transcoder.</summary>
    public static bool IsCrossLayerTranscoder(string path) =>
        Directory.Exists(path) && (File.Exists(Path.Combine(path, "W_enc_0.safetensors")) || Config(path)?.GetValueOrDefault("model_kind") == ModelKind);

    /// <summary>
    /// Loads the folder's transcoder; <paramref name="availableBytes"/> (the memory available when null) bounds what it
    /// may take as float32, refused in one line before anything is read.
    /// </summary>
    public static CrossLayerTranscoder Load(string folder, long? availableBytes = null)
    {
        var config = Config(folder);
        string configPath = Path.Combine(folder, TranscoderFiles.CircuitTracerConfig);
        if (config?.GetValueOrDefault("model_kind") is { } kind && kind != ModelKind)
            throw new RelpSaeException($"{configPath}: model_kind is {kind}, not {ModelKind}");
        string Hook(string key, string fallback) => config is null ? fallback
            : config.TryGetValue(key, out var name) && name.Length > 0 ? name
            : throw new RelpSaeException($"{configPath}: no {key} (the hook circuit-tracer's cross-layer transcoders {(key.Contains("input") ? "read" : "write")})");
        string input = Hook("feature_input_hook", DefaultInputHook), output = Hook("feature_output_hook", DefaultOutputHook);

        int layers = LayerCount(folder);
        var shape = CheckHeaders(folder, layers);
        long floats = layers * ((long)shape.DSae * shape.DModel + 2L * shape.DSae + shape.DModel)
            + (long)layers * (layers + 1) / 2 * shape.DSae * shape.DModel;
        // Two more matrices of one layer lie in memory while it is read (the stored encoder and its transpose's source rows).
        long bytes = 4 * (floats + 2L * shape.DSae * shape.DModel), available = availableBytes ?? AvailableMemory.Bytes();
        if (bytes > available)
            throw new RelpSaeException($"{folder}: the cross-layer transcoder needs {MemoryEstimate.Gb(bytes)} as float32 ({layers} layers of {shape.DSae} features, "
                + $"{(long)layers * (layers + 1) / 2} decoders of {shape.DSae}×{shape.DModel}), more than the {MemoryEstimate.Gb(available)} of memory available");

        var encoders = new SparseAutoencoder[layers];
        var later = new float[layers][][];
        for (int l = 0; l < layers; l++)
        {
            var (own, rest) = ReadDecoders(EncoderOrDecoder(folder, "dec", l), l, layers, shape.DSae, shape.DModel);
            later[l] = rest;
            encoders[l] = ReadEncoder(EncoderOrDecoder(folder, "enc", l), l, shape, own, input);
        }
        return new CrossLayerTranscoder(encoders, later, input, output);
    }

    private static Dictionary<string, string>? Config(string folder)
    {
        string path = Path.Combine(folder, TranscoderFiles.CircuitTracerConfig);
        return File.Exists(path) ? TranscoderFiles.TopLevelYaml(SideFile.ReadText(path, maxBytes: 1 << 20)) : null;
    }

    private static string EncoderOrDecoder(string folder, string part, int layer) => Path.Combine(folder, $"W_{part}_{layer}.safetensors");

    /// <summary>One more than the largest layer index of the folder's W_enc_i / W_dec_i files, every pair below it present.</summary>
    private static int LayerCount(string folder)
    {
        var indices = Directory.EnumerateFiles(folder, "W_*.safetensors")
            .Select(f => Regex.Match(Path.GetFileName(f), @"^W_(?:enc|dec)_(\d{1,4})\.safetensors$"))
            .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        int layers = indices.Count == 0 ? 1 : indices.Max() + 1;
        for (int l = 0; l < layers; l++)
            foreach (var part in new[] { "enc", "dec" })
                if (!File.Exists(EncoderOrDecoder(folder, part, l)))
                    throw new RelpSaeException($"{EncoderOrDecoder(folder, part, l)}: no such file (a cross-layer transcoder of {layers} layer{(layers == 1 ? "" : "s")} "
                        + $"has W_enc_i.safetensors and W_dec_i.safetensors for every layer i from 0 to {layers - 1})");
        return layers;
    }

    private sealed record Shape(int DModel, int DSae, bool JumpRelu);

    /// <summary>
    /// Every file's tensors checked against layer 0's b_enc [d_sae] and b_dec [d_model]: W_enc_i [d_sae, d_model], the
    /// same biases, threshold_i [d_sae] in every layer or none, W_dec_i [d_sae, n_layers − i, d_model], floating point,
    /// nothing else, a layer's matrices small enough for one array.
    /// </summary>
    private static Shape CheckHeaders(string folder, int layers)
    {
        Shape? shape = null;
        for (int l = 0; l < layers; l++)
        {
            using (var encoder = SafetensorsFile.Open(EncoderOrDecoder(folder, "enc", l)))
            {
                var byName = encoder.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
                int Length(string name) => byName.TryGetValue(name, out var e) && e.Shape.Length == 1 ? e.Shape[0]
                    : throw new RelpSaeException($"{encoder.Path}: tensor '{name}' is {(e is null ? "missing" : $"of shape [{string.Join(", ", e.Shape)}], not a vector")} "
                        + $"(layer {l} of a cross-layer transcoder has W_enc_{l}, b_enc_{l}, b_dec_{l} and optionally threshold_{l})");
                shape ??= new Shape(Length($"b_dec_{l}"), Length($"b_enc_{l}"), encoder.Contains($"threshold_{l}"));
                if ((long)shape.DSae * shape.DModel > Array.MaxLength)
                    throw new RelpSaeException($"{encoder.Path}: d_sae {shape.DSae} × d_model {shape.DModel} is more elements than one array can hold");
                var expected = new Dictionary<string, int[]>
                {
                    [$"W_enc_{l}"] = [shape.DSae, shape.DModel], [$"b_enc_{l}"] = [shape.DSae], [$"b_dec_{l}"] = [shape.DModel],
                };
                if (shape.JumpRelu) expected[$"threshold_{l}"] = [shape.DSae];
                CheckTensors(encoder, expected, $"layer 0's b_enc [{shape.DSae}] and b_dec [{shape.DModel}]");
            }
            using var decoder = SafetensorsFile.Open(EncoderOrDecoder(folder, "dec", l));
            CheckTensors(decoder, new() { [$"W_dec_{l}"] = [shape.DSae, layers - l, shape.DModel] },
                $"{layers} layers of {shape.DSae} features and d_model {shape.DModel}");
        }
        return shape!;
    }

    private static void CheckTensors(SafetensorsFile file, Dictionary<string, int[]> expected, string why)
    {
        foreach (var (name, shape) in expected)
        {
            var e = file.Contains(name) ? file.Entry(name) : null;
            if (e is null || !e.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{file.Path}: tensor '{name}' {(e is null ? "is missing" : $"has shape [{string.Join(", ", e.Shape)}]")}; {why} imply [{string.Join(", ", shape)}]");
            if (!e.DType.IsFloat()) throw new RelpSaeException($"{file.Path}: tensor '{name}' is {e.DType}; transcoder weights must be floating point");
        }
        if (file.Entries.FirstOrDefault(e => !expected.ContainsKey(e.Name)) is { } extra)
            throw new RelpSaeException($"{file.Path}: unexpected tensor '{extra.Name}' for a cross-layer transcoder (it holds {string.Join(", ", expected.Keys)})");
    }

    /// <summary>W_dec_l [d_sae, n_layers − l, d_model] split into one [d_sae × d_model] matrix per target layer, a band of features at a time.</summary>
    private static (float[] Own, float[][] Later) ReadDecoders(string path, int layer, int layers, int dSae, int dModel)
    {
        int targets = layers - layer;
        var split = Enumerable.Range(0, targets).Select(_ => new float[(long)dSae * dModel]).ToArray();
        using var file = SafetensorsFile.Open(path);
        var band = new float[(long)Math.Min(FeaturesPerRead, dSae) * targets * dModel];
        for (int first = 0; first < dSae; first += FeaturesPerRead)
        {
            int count = Math.Min(FeaturesPerRead, dSae - first);
            var rows = band.AsSpan(0, count * targets * dModel);
            file.ReadRows($"W_dec_{layer}", first, count, rows);
            for (int f = 0; f < count; f++)
                for (int k = 0; k < targets; k++)
                    rows.Slice((f * targets + k) * dModel, dModel).CopyTo(split[k].AsSpan((first + f) * dModel, dModel));
        }
        return (split[0], split[1..]);
    }

    private static SparseAutoencoder ReadEncoder(string path, int layer, Shape shape, float[] ownDecoder, string input)
    {
        using var file = SafetensorsFile.Open(path);
        var config = new SaeConfig
        {
            Architecture = shape.JumpRelu ? SaeArchitecture.JumpRelu : SaeArchitecture.Standard, DIn = shape.DModel, DSae = shape.DSae,
            ApplyBDecToInput = false, HookName = $"blocks.{layer}.{input}",
        };
        var tensors = new List<FloatTensor>
        {
            new("W_enc", [shape.DModel, shape.DSae], CommunitySaeFiles.Transpose(file.ReadFloat($"W_enc_{layer}").Data, shape.DSae, shape.DModel)),
            file.ReadFloat($"b_enc_{layer}") with { Name = "b_enc" },
            new("W_dec", [shape.DSae, shape.DModel], ownDecoder),
            file.ReadFloat($"b_dec_{layer}") with { Name = "b_dec" },
        };
        if (shape.JumpRelu) tensors.Add(file.ReadFloat($"threshold_{layer}") with { Name = "threshold" });
        return SparseAutoencoder.FromTensors(config, tensors, path);
    }
}
