using System.Text.Json;

namespace RelpSae.Reports;

/// <summary>Raw record files, one JSON object a line: a line that does not parse is an error naming the file and line.</summary>
internal static class JsonLines
{
    public static List<T> Read<T>(string path, Func<string, T> parse, string what)
    {
        var list = new List<T>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Length == 0) continue;
            try { list.Add(parse(text)); }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new RelpSaeException($"{path}:{line}: not a valid {what} ({e.Message.Split('\n')[0]})");
            }
        }
        return list;
    }
}
