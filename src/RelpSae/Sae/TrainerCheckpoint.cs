using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace RelpSae.Sae;

/// <summary>
/// The trainer's resumable state as one file: an 8-byte magic, a JSON header (options, step, RNG, counters,
/// and the name and length of every array), then the float arrays raw, little-endian, in header order.
/// Written to a temporary file and renamed over the target, so a kill mid-write leaves the last good one.
/// </summary>
internal static class TrainerCheckpoint
{
    private static ReadOnlySpan<byte> Magic => "RSAECKP1"u8;

    public static void Write(string path, JsonObject header, IReadOnlyList<(string Name, float[] Data)> arrays)
    {
        header["arrays"] = new JsonArray([.. arrays.Select(a => (JsonNode)new JsonObject { ["name"] = a.Name, ["length"] = a.Data.Length })]);
        string tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Magic);
            byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
            stream.Write(BitConverter.GetBytes(json.Length));
            stream.Write(json);
            foreach (var (_, data) in arrays) stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public static (JsonObject Header, Dictionary<string, float[]> Arrays) Read(string path)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"{path}: checkpoint not found");
        using var stream = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[8];
        Span<byte> length = stackalloc byte[4];
        try
        {
            stream.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic)) throw new RelpSaeException($"{path}: not a relp-sae training checkpoint");
            stream.ReadExactly(length);
            int headerLength = BitConverter.ToInt32(length);
            if (headerLength <= 0 || headerLength > stream.Length) throw new RelpSaeException($"{path}: corrupt checkpoint header");
            var json = new byte[headerLength];
            stream.ReadExactly(json);
            var header = JsonNode.Parse(json) as JsonObject ?? throw new RelpSaeException($"{path}: corrupt checkpoint header");
            var arrays = new Dictionary<string, float[]>();
            foreach (var entry in header["arrays"]!.AsArray())
            {
                var data = new float[entry!["length"]!.GetValue<int>()];
                stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
                arrays[entry["name"]!.GetValue<string>()] = data;
            }
            if (stream.Position != stream.Length) throw new RelpSaeException($"{path}: trailing bytes after the checkpoint's arrays");
            return (header, arrays);
        }
        catch (EndOfStreamException e)
        {
            throw new RelpSaeException($"{path}: checkpoint is truncated", e);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new RelpSaeException($"{path}: corrupt checkpoint header ({e.Message})", e);
        }
    }
}
