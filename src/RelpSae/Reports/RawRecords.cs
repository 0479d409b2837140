using System.Text.Json;

namespace RelpSae.Reports;

/// <summary>
/// A protocol's raw per-prompt records, one JSON object a line (what `merge` and a resumed run read back): the file's
/// name, how a record is written (appended as each prompt finishes, rewritten in prompt order at the end) and read,
/// and reading it back checked. A line that does not parse, a prompt recorded
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

    /// <summary>
    /// Adds one finished record at the end of the file, on the disk before it returns: a run's cost per prompt stays
    /// one line however many came before (rewriting the whole file after each prompt made a long run's I/O grow with
    /// the square of its prompts). An interruption during the write can leave the last line cut short, which
    /// <see cref="DropUnfinishedLine"/> removes before a resumed run reads the file.
    /// </summary>
    public void Append(string dir, T record)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(toLine(record) + "\n");
        using var stream = new FileStream(Path.Combine(dir, fileName), FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Whether line <paramref name="line"/> is the file's last and ends without a newline: a write that was interrupted.</summary>
    private static bool IsCutLastLine(string path, int line)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length == 0) return false;
        stream.Position = stream.Length - 1;
        return stream.ReadByte() != '\n' && File.ReadLines(path).Count() == line;
    }

    /// <summary>
    /// Cuts what follows the file's last newline — a record whose writing was interrupted — and says whether there was
    /// any. Every whole record ends with its newline, so nothing finished is lost; its prompt is evaluated again.
    /// </summary>
    public bool DropUnfinishedLine(string dir)
    {
        using var stream = new FileStream(Path.Combine(dir, fileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        long end = stream.Length;
        var buffer = new byte[4096];
        while (end > 0)
        {
            int n = (int)Math.Min(buffer.Length, end);
            stream.Position = end - n;
            stream.ReadExactly(buffer, 0, n);
            int newline = Array.LastIndexOf(buffer, (byte)'\n', n - 1, n);
            if (newline >= 0)
            {
                end -= n - newline - 1;
                break;
            }
            end -= n;
        }
        if (end == stream.Length) return false;
        stream.SetLength(end);
        stream.Flush(flushToDisk: true);
        return true;
    }

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
                if (IsCutLastLine(path, line))
                    throw new RelpSaeException($"{path}:{line}: the last record is cut short: its run was interrupted; continue it with --resume first");
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
