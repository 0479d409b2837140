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
            var folders = parse.GetValue(shards)!;
            foreach (var folder in folders)
                if (!Directory.Exists(folder)) throw new RelpSaeException($"merge: shard folder not found: {folder}");
            var records = folders.SelectMany(EvaluationFiles.ReadRaw).ToList();
            var duplicate = records.GroupBy(r => r.Index).FirstOrDefault(g => g.Count() > 1);
            if (duplicate != null) throw new RelpSaeException($"prompt {duplicate.Key} appears in more than one shard: were the same shards given twice?");
            if (records.Count == 0) throw new RelpSaeException("the shards hold no evaluated prompts");
            var methods = records[0].Scores.Keys.ToList();
            var outDir = parse.GetValue(output)!;
            // The first shard's header says what was run; the merge adds how the shards were combined.
            var header = (ReportHeader.Load(folders[0]) ?? new ReportHeader("RelP-SAE faithfulness report", []))
                .With("merged", $"{folders.Length} shard{(folders.Length == 1 ? "" : "s")}: {string.Join(", ", folders)}");
            EvaluationFiles.WriteAll(outDir, records, methods, header);
            Console.WriteLine($"merged {records.Count} prompts from {folders.Length} shard{(folders.Length == 1 ? "" : "s")} into {outDir}");
            return 0;
        });
        return command;
    }
}
