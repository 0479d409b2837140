using System.Text;
using System.Text.Json;

namespace RelpSae.Text;

/// <summary>
/// Text files read line by line as strict UTF-8: bytes that are not UTF-8 are an error naming the file
/// and line (never silently U+FFFD), and a line longer than <see cref="MaxLineBytes"/> is refused
/// before it is held, so one huge line cannot take gigabytes.
/// </summary>
public static class StrictText
{
    /// <summary>The longest line (document, prompt) read: 16 MiB, a few thousand pages of text.</summary>
    public const int MaxLineBytes = 16 << 20;

    /// <summary>Bytes of a data set's long line decoded at once (<see cref="Segments"/>): small beside a document piece.</summary>
    public const int SegmentBytes = 1 << 20;

    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's lines (without \n or \r\n) with their 1-based numbers; a line over <see cref="MaxLineBytes"/> is refused.</summary>
    public static IEnumerable<(int Number, string Text)> Lines(string path)
    {
        foreach (var (number, text, endsLine) in Segments(path, MaxLineBytes))
        {
            if (!endsLine) throw new RelpSaeException($"{path} line {number}: longer than {MaxLineBytes >> 20} MiB; split the document");
            yield return (number, text);
        }
    }

    /// <summary>
    /// The file's lines in segments of about <paramref name="segmentBytes"/> bytes, so a line of any length is
    /// read with bounded memory: a long line is cut before a character (never inside one) into segments
    /// with <c>EndsLine</c> false, the last with it true.
    /// </summary>
    public static IEnumerable<(int Number, string Text, bool EndsLine)> Segments(string path, int segmentBytes)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new Segment(path, segmentBytes);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            int start = 0;
            for (int i; (i = Array.IndexOf(buffer, (byte)'\n', start, read - start)) >= 0; start = i + 1)
            {
                foreach (var part in line.Append(buffer.AsSpan(start, i - start))) yield return (line.Number, part, false);
                yield return (line.Number, line.End(), true);
            }
            foreach (var part in line.Append(buffer.AsSpan(start, read - start))) yield return (line.Number, part, false);
        }
        if (line.Length > 0) yield return (line.Number, line.End(), true);
    }

    /// <summary>Refuses text that holds U+FFFD, which is what invalid UTF-8 became before it reached us (command-line arguments).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Valid(string? text, string what) =>
        text is not null && text.Contains('\uFFFD') ? throw new RelpSaeException($"{what} holds U+FFFD, the mark of bytes that were not valid UTF-8") : text;

    /// <summary>A JSON string's value; a lone surrogate escape ("\ud800") is an error naming <paramref name="what"/>.</summary>
    public static string JsonString(JsonElement value, string what)
    {
        try { return value.GetString()!; }
        catch (InvalidOperationException)
        {
            throw new RelpSaeException($"{what} holds a lone surrogate (an escape like \\ud800 without its pair), not text");
        }
    }

    /// <summary>Text quoted for a one-line message: JSON-escaped (no raw newlines) and cut to about <paramref name="max"/> characters.</summary>
    public static string Excerpt(string text, int max = 60) =>
        JsonSerializer.Serialize(text.Length <= max ? text : text[..max]) + Rest(text, max);

    /// <summary>Like <see cref="Excerpt"/> for text that needs no quotes (a JSON number's digits).</summary>
    public static string Cut(string text, int max = 60) => (text.Length <= max ? text : text[..max]) + Rest(text, max);

    private static string Rest(string text, int max) => text.Length <= max ? "" : $"… ({text.Length} characters)";

    /// <summary>The line being read: its bytes so far, its number, and where it starts within the line (for error offsets).</summary>
    private sealed class Segment(string path, int segmentBytes)
    {
        readonly MemoryStream _bytes = new();
        long _offset;
        bool _first = true;

        public int Number { get; private set; } = 1;
        public long Length => _bytes.Length;

        /// <summary>Adds bytes; once more than segmentBytes are held, decodes all but the last character's start.</summary>
        public IEnumerable<string> Append(ReadOnlySpan<byte> bytes)
        {
            _bytes.Write(bytes);
            if (_bytes.Length <= segmentBytes) return [];
            var held = _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length);
            int cut = held.Length - 1;
            while (cut > 0 && (held[cut] & 0xC0) == 0x80) cut--; // a UTF-8 continuation byte: not a character's start
            if (cut == 0) cut = held.Length;
            return [Decode(cut, stripCr: false)];
        }

        /// <summary>The rest of the line (without \r), then ready for the next line.</summary>
        public string End()
        {
            var text = Decode((int)_bytes.Length, stripCr: true);
            Number++;
            _offset = 0;
            return text;
        }

        string Decode(int length, bool stripCr)
        {
            var all = _bytes.GetBuffer();
            var bytes = all.AsSpan(0, length);
            int skipped = 0;
            if (_first && bytes.StartsWith("\uFEFF"u8)) { bytes = bytes[3..]; skipped = 3; }
            _first = false;
            if (stripCr && bytes.EndsWith("\r"u8)) bytes = bytes[..^1];
            try { return Utf8.GetString(bytes); }
            catch (DecoderFallbackException e)
            {
                throw new RelpSaeException($"{path} line {Number}: not valid UTF-8 (byte {_offset + skipped + e.Index} of the line)");
            }
            finally
            {
                int rest = (int)_bytes.Length - length;
                Buffer.BlockCopy(all, length, all, 0, rest);
                _bytes.SetLength(rest);
                _offset += length;
            }
        }
    }
}
