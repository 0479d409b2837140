using System.CommandLine;
using System.Text.Json.Nodes;
using RelpSae.Reports;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae merge DIR... --out DIR</c>: combine the shards of an `evaluate --shard i/n` job array.</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var shards = new Argument<string[]>("shards") { Description = "Output folders of `evaluate --shard i/n` runs.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Folder for the merged results.", Required = true };
        var command = new Command("merge", "Combine sharded evaluate outputs into one results.json, CSVs and report.html.") { shards, output };
        command.SetAction(parse =>
        {
            var dirs = parse.GetValue(shards)!;
            var settings = SameSettings(dirs);
            var records = dirs.SelectMany(EvaluationFiles.ReadRaw).ToList();
            var duplicate = records.GroupBy(r => r.Index).FirstOrDefault(g => g.Count() > 1);
            if (duplicate != null) throw new RelpSaeException($"prompt {duplicate.Key} appears in more than one shard: were the same shards given twice?");
            if (records.Count == 0) throw new RelpSaeException("the shards hold no evaluated prompts");
            var methods = records[0].Scores.Keys.ToList();
            var odd = records.FirstOrDefault(r => !r.Scores.Keys.ToHashSet().SetEquals(methods));
            if (odd is not null)
                throw new RelpSaeException($"prompt {odd.Index} was scored by {string.Join(",", odd.Scores.Keys)}, prompt {records[0].Index} by {string.Join(",", methods)}: the shards ran different --methods");
            var outDir = parse.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            using var held = FolderLock.Acquire(outDir);
            EvaluationFiles.WriteAll(outDir, records, methods, "RelP-SAE faithfulness report (merged)");
            if (settings is not null) EvaluationSettings.Write(outDir, settings);
            Console.WriteLine($"merged {records.Count} prompts from {parse.GetValue(shards)!.Length} shards into {outDir}");
            return 0;
        });
        return command;
    }

    /// <summary>The shards' common settings (null when none recorded any); shards made with different settings are refused.</summary>
    private static JsonObject? SameSettings(string[] dirs)
    {
        var all = dirs.Select(d => (Dir: d, Settings: EvaluationSettings.Read(d))).ToList();
        var first = all[0];
        foreach (var other in all.Skip(1))
        {
            if ((first.Settings is null) != (other.Settings is null))
                throw new RelpSaeException($"{(first.Settings is null ? first.Dir : other.Dir)} records no {EvaluationSettings.FileName} but {(first.Settings is null ? other.Dir : first.Dir)} does: they are not shards of one run");
            if (first.Settings is not null && EvaluationSettings.FirstDifference(first.Settings, other.Settings!) is var (name, a, b))
                throw new RelpSaeException($"{first.Dir} was made with {name} {EvaluationSettings.Show(a)} but {other.Dir} with {EvaluationSettings.Show(b)}: they are not shards of one run");
        }
        return first.Settings;
    }
}
