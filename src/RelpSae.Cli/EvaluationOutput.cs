using System.Text.Json.Nodes;
using RelpSae.Reports;

namespace RelpSae.Cli;

/// <summary>
/// evaluate's --out for the length of a run: created and probed for writing, locked against another
/// run, and either new (its settings recorded) or, with --resume, holding a run of the same settings.
/// <typeparamref name="T"/> is the level's record (a prompt's feature or component evaluation).
/// </summary>
internal sealed class EvaluationOutput<T> : IDisposable
{
    private readonly FolderLock _lock;

    /// <summary>The records already there (empty for a new run).</summary>
    public List<T> Records { get; }

    private EvaluationOutput(FolderLock folderLock, List<T> records) => (_lock, Records) = (folderLock, records);

    /// <summary>Opens <paramref name="dir"/> for a level whose records are <paramref name="raw"/>, of a task of <paramref name="promptCount"/> prompts.</summary>
    public static EvaluationOutput<T> Open(string dir, bool resume, JsonObject settings, RawRecords<T> raw, int promptCount)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RelpSaeException($"cannot write to --out {dir}: {e.Message}");
        }
        var folderLock = FolderLock.Acquire(dir);
        try
        {
            return new EvaluationOutput<T>(folderLock, StartOrResume(dir, resume, settings, raw, promptCount));
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    private static List<T> StartOrResume(string dir, bool resume, JsonObject settings, RawRecords<T> raw, int promptCount)
    {
        // results.json, the CSVs and report.html share their names across levels: never mix two runs in one folder.
        foreach (var (file, protocol) in new[] { (EvaluationFiles.Raw.FileName, "--level features"), (ComponentFiles.Raw.FileName, "--level components"), (CircuitFiles.Raw.FileName, "--circuit"), (GraphFiles.Raw.FileName, "--graphs") })
            if (file != raw.FileName && File.Exists(Path.Combine(dir, file)))
                throw new RelpSaeException($"{dir} holds results of evaluate {protocol}: choose another --out");
        if (!File.Exists(Path.Combine(dir, raw.FileName)))
        {
            EvaluationSettings.Write(dir, settings);
            return [];
        }
        if (!resume) throw new RelpSaeException($"{dir} already holds results: pass --resume to continue that run, or choose another --out");
        var recorded = EvaluationSettings.Read(dir)
            ?? throw new RelpSaeException($"--resume: {dir} records no {EvaluationSettings.FileName} (an older run), so its settings cannot be checked; start the run in another folder");
        if (EvaluationSettings.FirstDifference(recorded, settings) is var (name, was, now))
            throw new RelpSaeException($"--resume: the run in {dir} was made with {name} {EvaluationSettings.Show(was)}, this command gives {EvaluationSettings.Show(now)}; repeat the original options or choose another --out");
        if (raw.DropUnfinishedLine(dir))
            Console.Error.WriteLine($"note: {Path.Combine(dir, raw.FileName)} ended in a record cut short by the interruption: removed, its prompt is evaluated again");
        // A record the run cannot have written (a prompt twice, one beyond the task) is refused before anything is rewritten.
        return [.. raw.Read(dir, promptCount)];
    }

    public void Dispose() => _lock.Dispose();
}
