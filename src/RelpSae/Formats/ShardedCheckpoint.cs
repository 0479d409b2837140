using System.Text.Json;

namespace RelpSae.Formats;

/// <summary>
/// The weights of a Hugging Face model folder by name, whatever their layout: model.safetensors, sharded
/// safetensors (model.safetensors.index.json naming each tensor's shard), or pytorch_model.bin. A tensor is
/// read (widened to float32, or packed a band of rows at a time in its width) only once the family has checked the
/// tensor's name, dtype and shape against its config (safetensors are read lazily; the files stay open
/// until the result is disposed). Each tensor remembers the file it came from, so an error can name it.
/// </summary>
public static class ShardedCheckpoint
{
    public const string ConfigFile = "config.json";
    public const string SafetensorsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string PyTorchFile = "pytorch_model.bin";

    public static CheckpointTensors Read(string dir, bool checkFinite = true)
    {
        string single = Path.Combine(dir, SafetensorsFile), index = Path.Combine(dir, IndexFile), bin = Path.Combine(dir, PyTorchFile);
        var tensors = new CheckpointTensors();
        try
        {
            Fill(dir, single, index, bin, tensors, checkFinite);
        }
        catch
        {
            tensors.Dispose();
            throw;
        }
        return tensors;
    }

    private static void Fill(string dir, string single, string index, string bin, CheckpointTensors tensors, bool checkFinite)
    {
        if (File.Exists(single)) ReadShard(single, tensors, checkFinite, null);
        else if (File.Exists(index))
            foreach (var (shard, names) in Shards(index))
            {
                string path = Path.Combine(dir, shard);
                if (!File.Exists(path))
                    throw new RelpSaeException($"{index}: shard '{shard}' (holding '{names[0]}') is missing from {dir}");
                ReadShard(path, tensors, checkFinite, names);
            }
        else if (File.Exists(bin))
        {
            // The pickle's declarations first, reading no storage; each tensor is inflated only when taken.
            var headers = new List<TensorHeader>();
            PyTorchBin.Read(bin, checkFinite, plan: declared => { headers.AddRange(declared); return new HashSet<string>(); });
            foreach (var h in headers)
                tensors.Add(h, bin, () => PyTorchBin.Read(bin, checkFinite, plan: _ => new HashSet<string> { h.Name })[h.Name]);
        }
        else
            throw new RelpSaeException($"{dir}: none of {SafetensorsFile}, {IndexFile}, {PyTorchFile} is there");
    }

    private static void ReadShard(string path, CheckpointTensors tensors, bool checkFinite, List<string>? expected)
    {
        var file = Formats.SafetensorsFile.Open(path);
        tensors.Hold(file);
        foreach (var name in expected ?? file.Entries.Select(e => e.Name))
        {
            if (!file.Contains(name))
                throw new RelpSaeException($"{path}: tensor '{name}' is missing, though {IndexFile} places it in this shard");
            var entry = file.Entry(name);
            tensors.Add(new TensorHeader(name, entry.Shape, entry.DType), path, () => file.ReadFloat(name, checkFinite),
                entry.Shape.Length == 2 ? (first, count, into) => file.ReadRows(name, first, count, into, checkFinite) : null);
        }
    }

    /// <summary>The index's weight_map grouped by shard: shard file → the tensor names it holds.</summary>
    private static List<(string Shard, List<string> Names)> Shards(string index)
    {
        try
        {
            using var doc = JsonDocument.Parse(SideFile.ReadBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new RelpSaeException($"{index}: weight_map is missing or not an object");
            var shards = new List<(string, List<string>)>();
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new RelpSaeException($"{index}: weight_map['{entry.Name}'] is not a file name");
                string shard = entry.Value.GetString()!;
                if (shard != Path.GetFileName(shard))
                    throw new RelpSaeException($"{index}: weight_map['{entry.Name}'] = '{shard}' is not a file name in the folder");
                int i = shards.FindIndex(s => s.Item1 == shard);
                if (i < 0) shards.Add((shard, [entry.Name])); else shards[i].Item2.Add(entry.Name);
            }
            return shards;
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{index}: not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }
}
