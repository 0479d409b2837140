using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Reports;

namespace RelpSae.Sae;

/// <summary>
/// A training run's output folder for the run's length: created and probed for writing, locked against another run
/// (<see cref="FolderLock"/>: two runs in one folder would overwrite each other's checkpoints and SAE), and either new
/// (no other run or SAE there unless replacing; the run record written) or, resuming, holding this run's checkpoint,
/// started with the same data settings.
/// </summary>
public sealed class SaeTrainingFolder : IDisposable
{
    /// <summary>The run's data settings and command line, written at the start so that a resumed run can check them.</summary>
    public const string RunFile = "training_run.json";

    /// <summary>The record's keys a resumed run must match (the command line may differ).</summary>
    private static readonly string[] Matching = ["hook", "output_hook", "data", "data_path", "context_size", "prepend_bos", "shuffle_rows", "seed"];

    private static readonly string[] SaeFileNames = [SaeFiles.WeightsFile, SaeFiles.SparsityFile, FeatureMeans.FileName, FeatureSummaries.FileName];

    private readonly FolderLock held;

    /// <summary>The command line that started the run: the original one when resuming.</summary>
    public string Command { get; }

    private SaeTrainingFolder(FolderLock held, string command) => (this.held, Command) = (held, command);

    /// <summary>What must match between a run and its resumption, plus the <paramref name="command"/> that started it
    /// (a transcoder's run also records its <paramref name="outputHook"/>).</summary>
    public static JsonObject Record(SaeDataSettings settings, HookPoint hook, SaeTrainingOptions options, int shuffleRows, string command,
        HookPoint? outputHook = null)
    {
        var record = new JsonObject
        {
            ["hook"] = hook.Name,
            ["data"] = settings.Provenance(hook.Name, "").Extra!.DeepClone(),
            ["data_path"] = settings.DataPath,
            ["context_size"] = settings.Packing.ContextLength,
            ["prepend_bos"] = settings.Packing.PrependBos,
            ["shuffle_rows"] = shuffleRows,
            ["seed"] = options.Seed,
            ["command"] = command,
        };
        if (outputHook is { } output) record["output_hook"] = output.Name;
        return record;
    }

    /// <summary>Bytes the run writes at most: the checkpoint (weights and two Adam moments) twice while it is replaced, the SAE once.</summary>
    public static long BytesNeeded(SaeTrainingOptions options, int dIn)
    {
        long parameters = 2L * dIn * options.DSae + 2L * options.DSae + dIn;
        return 7 * 4 * parameters;
    }

    /// <summary>Opens <paramref name="dir"/> for the run <paramref name="record"/> describes (see the class); dispose to release it.</summary>
    public static SaeTrainingFolder Open(string dir, bool resume, bool replace, JsonObject record)
    {
        try
        {
            Directory.CreateDirectory(dir);
            var probe = Path.Combine(dir, ".write-probe");
            File.WriteAllBytes(probe, new byte[1 << 16]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingException(name => $"{name(Setting.OutputFolder)} {dir}: cannot write there ({e.Message})");
        }
        var folderLock = FolderLock.Acquire(dir);
        try
        {
            return new SaeTrainingFolder(folderLock, resume ? Resumed(dir, record) : Started(dir, replace, record));
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    private static string Started(string dir, bool replace, JsonObject record)
    {
        if (File.Exists(Path.Combine(dir, SaeTrainingRun.CheckpointFile)) || File.Exists(Path.Combine(dir, SaeFiles.ConfigFile)))
            throw new SettingException(name => $"{name(Setting.OutputFolder)} {dir} already holds a training run: add {name(Setting.Resume)} to continue it, or choose another folder");
        if (!replace && SaeFileNames.FirstOrDefault(f => File.Exists(Path.Combine(dir, f))) is { } present)
            throw new SettingException(name => $"{name(Setting.OutputFolder)} {dir} already holds SAE files ({present}); pass {name(Setting.Replace)} to replace it, or choose another folder");
        File.WriteAllText(Path.Combine(dir, RunFile), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return record["command"]!.GetValue<string>();
    }

    private static string Resumed(string dir, JsonObject record)
    {
        if (!File.Exists(Path.Combine(dir, SaeTrainingRun.CheckpointFile)))
            throw new SettingException(name => File.Exists(Path.Combine(dir, SaeFiles.WeightsFile))
                ? $"{name(Setting.Resume)}: the run in {dir} has finished (its SAE is saved there); nothing to resume"
                : $"{name(Setting.Resume)}: no {SaeTrainingRun.CheckpointFile} in {dir} to continue");
        var runFile = Path.Combine(dir, RunFile);
        if (!File.Exists(runFile) || Read(runFile) is not JsonObject recorded) return record["command"]!.GetValue<string>();
        foreach (var key in Matching)
            if (!JsonNode.DeepEquals(recorded[key], record[key]))
                throw new SettingException(name => $"{name(Setting.Resume)}: the run in {dir} was started with {key} {recorded[key]?.ToJsonString() ?? "none"}, this command gives {record[key]?.ToJsonString() ?? "none"}");
        return recorded["command"]?.GetValue<string>() ?? record["command"]!.GetValue<string>();
    }

    private static JsonNode? Read(string path)
    {
        try { return JsonNode.Parse(SideFile.ReadText(path)); }
        catch (JsonException e)
        {
            throw new SettingException(name => $"{name(Setting.Resume)}: {path} is not valid JSON ({e.Message.Split('\n')[0]}); was it cut short?");
        }
    }

    public void Dispose() => held.Dispose();
}
