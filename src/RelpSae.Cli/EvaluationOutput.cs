using System.Text.Json.Nodes;
using RelpSae.Attribution;
using RelpSae.Reports;

namespace RelpSae.Cli;

/// <summary>
/// evaluate's --out for the length of a run: created and probed for writing, locked against another
/// run, and either new (its settings recorded) or, with --resume, holding a run of the same settings.
/// </summary>
internal sealed class EvaluationOutput : IDisposable
{
    private readonly FolderLock _lock;

    /// <summary>The records already there (empty for a new run).</summary>
    public List<PromptEvaluation> Records { get; }

    private EvaluationOutput(FolderLock folderLock, List<PromptEvaluation> records) => (_lock, Records) = (folderLock, records);

    public static EvaluationOutput Open(string dir, bool resume, JsonObject settings)
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
            return new EvaluationOutput(folderLock, StartOrResume(dir, resume, settings));
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    private static List<PromptEvaluation> StartOrResume(string dir, bool resume, JsonObject settings)
    {
        if (!File.Exists(Path.Combine(dir, EvaluationFiles.RawFile)))
        {
            EvaluationSettings.Write(dir, settings);
            return [];
        }
        if (!resume) throw new RelpSaeException($"{dir} already holds results: pass --resume to continue that run, or choose another --out");
        var recorded = EvaluationSettings.Read(dir)
            ?? throw new RelpSaeException($"--resume: {dir} records no {EvaluationSettings.FileName} (an older run), so its settings cannot be checked; start the run in another folder");
        if (EvaluationSettings.FirstDifference(recorded, settings) is var (name, was, now))
            throw new RelpSaeException($"--resume: the run in {dir} was made with {name} {EvaluationSettings.Show(was)}, this command gives {EvaluationSettings.Show(now)}; repeat the original options or choose another --out");
        return [.. EvaluationFiles.ReadRaw(dir)];
    }

    public void Dispose() => _lock.Dispose();
}
