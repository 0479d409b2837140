using System.Text.Json;

namespace RelpSae.Reports;

/// <summary>
/// A protocol's raw per-prompt records, one JSON object a line (what `merge` and a resumed run read back): the file's
/// name, how a record is written and read, and reading it back checked. A line that does not parse, a prompt recorded
/// twice or one beyond the task is an error naming the file and line, so no record is counted twice or summarised
/// with a prompt set it was not made from.
/// </summary>
public sealed class RawRecords<T>(string fileName, string what, string protocol, Func<T, int> index, Func<T, string> toLine,
    Func<JsonElement, T> fromJson)
{
    public string FileName => fileName;

    public int Index(T record) => index(record);

    public string ToLine(T record) => toLine(record);

    public List<T> Ordered(IEnumerable<T> records) => [.. records.OrderBy(index)];

    /// <summary>Writes the records in prompt order, atomically: an interruption leaves the previous file whole.</summary>
    public void Write(string dir, IEnumerable<T> records) =>
        EvaluationFiles.WriteAtomically(Path.Combine(dir, fileName), string.Concat(Ordered(records).Select(r => toLine(r) + "\n")));

    /// <summary>The records in <paramref name="dir"/>, each a prompt of the task's <paramref name="promptCount"/> at most once.</summary>
    public IReadOnlyList<T> Read(string dir, int promptCount = int.MaxValue)
    {
        var path = Path.Combine(dir, fileName);
        if (!File.Exists(path)) throw new RelpSaeException($"{dir} holds no {fileName}: is it the output folder of a {protocol}?");
        var records = new List<T>();
        var lineOf = new Dictionary<int, int>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Length == 0) continue;
            T record;
            try
            {
                using var doc = JsonDocument.Parse(text);
                record = fromJson(doc.RootElement);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new RelpSaeException($"{path}:{line}: not a valid {what} ({e.Message.Split('\n')[0]})");
            }
            int i = index(record);
            if (i < 0 || i >= promptCount)
                throw new RelpSaeException($"{path}:{line}: prompt {i} is {(i < 0 ? "not a prompt's index" : $"beyond the {promptCount} prompts of the task")}; was the file made by another run?");
            if (!lineOf.TryAdd(i, line))
                throw new RelpSaeException($"{path}:{line}: prompt {i} is recorded twice (first on line {lineOf[i]}); remove one of the two lines");
            records.Add(record);
        }
        return records;
    }
}
