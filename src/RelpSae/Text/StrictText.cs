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

    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's lines (without \n or \r\n) with their 1-based numbers.</summary>
    public static IEnumerable<(int Number, string Text)> Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var line = new MemoryStream();
        var buffer = new byte[1 << 16];
        int number = 0, read;
        bool first = true;
        while ((read = stream.Read(buffer)) > 0)
        {
            int start = 0;
            for (int i; (i = Array.IndexOf(buffer, (byte)'\n', start, read - start)) >= 0; start = i + 1)
            {
                Append(line, buffer.AsSpan(start, i - start), path, number + 1);
                yield return (++number, Decode(line, path, number, ref first));
            }
            Append(line, buffer.AsSpan(start, read - start), path, number + 1);
        }
        if (line.Length > 0) yield return (++number, Decode(line, path, number, ref first));
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

    private static void Append(MemoryStream line, ReadOnlySpan<byte> bytes, string path, int number)
    {
        if (line.Length + bytes.Length > MaxLineBytes)
            throw new RelpSaeException($"{path} line {number}: longer than {MaxLineBytes >> 20} MiB; split the document");
        line.Write(bytes);
    }

    private static string Decode(MemoryStream line, string path, int number, ref bool first)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (first && bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        first = false;
        if (bytes.EndsWith("\r"u8)) bytes = bytes[..^1];
        try { return Utf8.GetString(bytes); }
        catch (DecoderFallbackException e)
        {
            throw new RelpSaeException($"{path} line {number}: not valid UTF-8 (byte {e.Index} of the line)");
        }
        finally { line.SetLength(0); }
    }
}
