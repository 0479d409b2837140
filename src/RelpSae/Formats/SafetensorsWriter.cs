using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RelpSae.Formats;

/// <summary>
/// Writes float32 tensors as safetensors the way the reference library does: tensors sorted by name
/// (they share one dtype, so this is the reference's dtype-then-name order), the JSON header padded
/// with spaces to a multiple of 8 bytes, then the raw little-endian data. The file appears atomically (<see cref="AtomicFile"/>).
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<FloatTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Name == sorted[i - 1].Name)
                throw new RelpSaeException($"{path}: tensor '{sorted[i].Name}' given twice");
        foreach (var t in sorted)
            if (t.Shape.Aggregate(1L, (n, d) => n * d) != t.Data.LongLength || t.Shape.Any(d => d < 0))
                throw new RelpSaeException($"{path}: tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] but {t.Data.LongLength} values");

        byte[] header = Header(sorted, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BitConverter.TryWriteBytes(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in sorted)
                stream.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
        });
    }

    private static byte[] Header(List<FloatTensor> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        // serde_json escapes only what JSON requires; so do we, so names read back byte for byte.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in sorted)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += t.Data.LongLength * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
