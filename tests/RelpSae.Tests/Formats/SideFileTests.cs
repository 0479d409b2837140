using System.Runtime.InteropServices;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Reports;
using RelpSae.Sae;
using RelpSae.Cli.Commands;
using RelpSae.Tests.Cli;
using RelpSae.Tests.Sae;
using RelpSae.Text;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Every reader of a JSON or text file beside the weights goes through <see cref="SideFile"/>: a link to
/// /dev/zero once ran out of memory (exit 70), a FIFO hung the run, and a huge file was read whole. Each
/// is now a one-line error naming the file, quickly and with little allocated.
/// </summary>
public class SideFileTests
{
    private static readonly Dictionary<string, (string File, Action<string> Read)> Readers = new()
    {
        ["ConfigJson"] = (ShardedCheckpoint.ConfigFile, dir => ConfigJson.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile))),
        ["Gpt2Config"] = (ShardedCheckpoint.ConfigFile, dir => Gpt2Config.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile))),
        ["SaeLens cfg.json"] = (SaeFiles.ConfigFile, dir => SaeFiles.Load(dir)),
        ["TokenizerFiles"] = ("tokenizer.json", dir => TokenizerFiles.Load(dir)),
        ["ByteFallbackBpe"] = ("tokenizer.json", dir => ByteFallbackBpe.Load(Path.Combine(dir, "tokenizer.json"))),
        ["vocab.json"] = ("vocab.json", dir => { File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\n"); Gpt2Tokenizer.Load(dir); }),
        ["merges.txt"] = ("merges.txt", dir => { File.WriteAllText(Path.Combine(dir, "vocab.json"), """{"a": 0}"""); Gpt2Tokenizer.Load(dir); }),
        ["SentencePieceModel"] = (SentencePieceModel.FileName, dir => SentencePieceModel.Load(Path.Combine(dir, SentencePieceModel.FileName))),
        ["safetensors index"] = (ShardedCheckpoint.IndexFile, dir => ShardedCheckpoint.Read(dir).Dispose()),
        ["FeatureSummaries"] = (FeatureSummaries.FileName, dir => FeatureSummaries.Load(dir, dSae: 16)),
        ["EvaluationSettings"] = (EvaluationSettings.FileName, dir => EvaluationSettings.Read(dir)),
        ["ReportHeader"] = (ReportHeader.File, dir => ReportHeader.Load(dir)),
    };

    public static TheoryData<string> ReaderNames => new(Readers.Keys);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    private static (string Dir, string Path) Place(string reader)
    {
        var dir = Directory.CreateTempSubdirectory("relp-side-").FullName;
        return (dir, Path.Combine(dir, Readers[reader].File));
    }

    /// <summary>
    /// Runs the reader on its own thread and returns its error, failing when it takes over 10 s (then
    /// <paramref name="release"/> unblocks it) or allocates more than 16 MB.
    /// </summary>
    private static RelpSaeException Refused(string reader, string dir, Action? release = null) =>
        Refused(reader, () => Readers[reader].Read(dir), Readers[reader].File, release);

    private static RelpSaeException Refused(string reader, Action read, string file, Action? release)
    {
        RelpSaeException? error = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { read(); }
            catch (RelpSaeException e) { error = e; }
            catch (Exception) { }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(10)))
        {
            release?.Invoke();
            Assert.Fail($"{reader} was still reading after 10 s");
        }
        Assert.True(allocated < 16 << 20, $"{reader} allocated {allocated >> 20} MB");
        Assert.NotNull(error);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(file, error.Message);
        return error;
    }

    /// <summary>The weights files' readers, which have no size cap but must not block on a FIFO either.</summary>
    private static readonly Dictionary<string, Action<string>> WeightReaders = new()
    {
        ["model.safetensors"] = path => SafetensorsFile.Open(path).Dispose(),
        ["pytorch_model.bin"] = path => PyTorchBin.Read(path),
        ["params.npz"] = path => NpzFile.Read(path, _ => { }),
    };

    public static TheoryData<string> WeightFiles => new(WeightReaders.Keys);

    [Theory]
    [MemberData(nameof(WeightFiles))]
    public void AWeightsFileThatIsAFifoIsRefusedWithoutWaitingForAWriter(string file)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("relp-side-").FullName, file);
        Assert.Equal(0, mkfifo(path, Convert.ToUInt32("600", 8)));
        void Release() { using var writer = new FileStream(path, FileMode.Open, FileAccess.Write); }
        Assert.Contains("not a regular file", Refused(file, () => WeightReaders[file](path), file, Release).Message);
    }

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void ALinkToDevZeroIsRefused(string reader)
    {
        var (dir, path) = Place(reader);
        File.CreateSymbolicLink(path, "/dev/zero");
        Assert.Contains("not a regular file", Refused(reader, dir).Message);
    }

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void AFifoIsRefusedWithoutWaitingForAWriter(string reader)
    {
        var (dir, path) = Place(reader);
        Assert.Equal(0, mkfifo(path, Convert.ToUInt32("600", 8)));
        // Opening the FIFO for writing (which waits for the blocked reader) lets a hung reader finish.
        void Release() { using var writer = new FileStream(path, FileMode.Open, FileAccess.Write); }
        Assert.Contains("not a regular file", Refused(reader, dir, Release).Message);
    }

    [Theory]
    [MemberData(nameof(ReaderNames))]
    public void AFileLargerThanTheCapIsRefusedUnread(string reader)
    {
        var (dir, path) = Place(reader);
        using (var f = File.Create(path)) f.SetLength(SideFile.MaxBytes + 1);   // sparse: nothing is written
        Assert.Contains($"more than the {SideFile.MaxBytes:N0}", Refused(reader, dir).Message);
    }

    [Fact]
    public void AnOversizedRunRecordOnResumeIsAUserError()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-side-").FullName;
        File.WriteAllBytes(Path.Combine(outDir, SaeTrainingRun.CheckpointFile), []);
        using (var f = File.Create(Path.Combine(outDir, SaeTrainingFolder.RunFile))) f.SetLength(SideFile.MaxBytes + 1);
        var (code, _, error) = CliHarness.Run(SaeCommandsTests.Train(TarotText.WriteFile(), outDir, "--resume"));
        Assert.Equal(2, code);
        Assert.Matches($"^error: .*{SaeTrainingFolder.RunFile}: .* more than the {SideFile.MaxBytes:N0} such a file may hold\n$", error);
    }
}
