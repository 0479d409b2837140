using System.CommandLine;
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
            if (dirs.All(d => File.Exists(Path.Combine(d, ComponentFiles.RawFile)))) return MergeComponents(dirs, parse.GetValue(output)!);
            if (dirs.All(d => File.Exists(Path.Combine(d, CircuitFiles.RawFile)))) return MergeCircuit(dirs, parse.GetValue(output)!);
            var records = dirs.SelectMany(EvaluationFiles.ReadRaw).ToList();
            CheckShards(records.Select(r => r.Index));
            var methods = records[0].Scores.Keys.ToList();
            var outDir = parse.GetValue(output)!;
            EvaluationFiles.WriteAll(outDir, records, methods, "RelP-SAE faithfulness report (merged)");
            Console.WriteLine($"merged {records.Count} prompts from {parse.GetValue(shards)!.Length} shards into {outDir}");
            return 0;
        });
        return command;
    }

    private static void CheckShards(IEnumerable<int> indices)
    {
        var list = indices.ToList();
        var duplicate = list.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new RelpSaeException($"prompt {duplicate.Key} appears in more than one shard: were the same shards given twice?");
        if (list.Count == 0) throw new RelpSaeException("the shards hold no evaluated prompts");
    }

    /// <summary>Shards of `evaluate --level components`.</summary>
    private static int MergeComponents(string[] dirs, string outDir) => Merge(dirs, outDir, ComponentFiles.ReadRaw, r => r.Index,
        records => ComponentFiles.WriteAll(outDir, records, records[0].Scores.Keys.ToList(), "RelP-SAE component patching (merged)"));

    /// <summary>Shards of `evaluate --circuit`.</summary>
    private static int MergeCircuit(string[] dirs, string outDir) => Merge(dirs, outDir, CircuitFiles.ReadRaw, r => r.Index,
        records => CircuitFiles.WriteAll(outDir, records, records[0].Curves.Keys.ToList(), "RelP-SAE sparse feature circuits (merged)"));

    private static int Merge<T>(string[] dirs, string outDir, Func<string, IReadOnlyList<T>> read, Func<T, int> index, Action<List<T>> write)
    {
        var records = dirs.SelectMany(read).ToList();
        CheckShards(records.Select(index));
        write(records);
        Console.WriteLine($"merged {records.Count} prompts from {dirs.Length} shards into {outDir}");
        return 0;
    }
}
