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
            foreach (var dir in dirs)
                if (!Directory.Exists(dir)) throw new RelpSaeException($"merge: shard folder not found: {dir}");
            var settings = SameSettings(dirs);
            var outDir = parse.GetValue(output)!;
            // The merged files share their names with a shard's: writing them there would overwrite that shard.
            if (dirs.FirstOrDefault(d => SameFolder(d, outDir)) is { } shard)
                throw new RelpSaeException($"merge: --out {outDir} is one of the shards ({shard}); write the merged results to another folder");
            if (dirs.All(d => File.Exists(Path.Combine(d, ComponentFiles.Raw.FileName)))) return MergeComponents(dirs, outDir, settings);
            if (dirs.All(d => File.Exists(Path.Combine(d, CircuitFiles.Raw.FileName)))) return MergeCircuit(dirs, outDir, settings);
            if (dirs.All(d => File.Exists(Path.Combine(d, GraphFiles.Raw.FileName)))) return MergeGraphs(dirs, outDir, settings);
            var records = dirs.SelectMany(d => EvaluationFiles.Raw.Read(d)).ToList();
            CheckShards(records.Select(r => r.Index));
            var methods = records[0].Scores.Keys.ToList();
            var odd = records.FirstOrDefault(r => !r.Scores.Keys.ToHashSet().SetEquals(methods));
            if (odd is not null)
                throw new RelpSaeException($"prompt {odd.Index} was scored by {string.Join(",", odd.Scores.Keys)}, prompt {records[0].Index} by {string.Join(",", methods)}: the shards ran different --methods");
            Directory.CreateDirectory(outDir);
            using var held = FolderLock.Acquire(outDir);
            // The first shard's header says what was run; the merge adds how the shards were combined.
            var header = (ReportHeader.Load(dirs[0]) ?? new ReportHeader("RelP-SAE faithfulness report", []))
                .With("merged", $"{Shards(dirs.Length)}: {string.Join(", ", dirs)}");
            EvaluationFiles.WriteAll(outDir, records, methods, header);
            if (settings is not null) EvaluationSettings.Write(outDir, settings);
            Console.WriteLine($"merged {records.Count} prompts from {Shards(dirs.Length)} into {outDir}");
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
    private static int MergeComponents(string[] dirs, string outDir, JsonObject? settings) =>
        Merge(dirs, outDir, settings, ComponentFiles.Raw, "RelP-SAE component patching",
            (records, header) => ComponentFiles.WriteAll(outDir, records, records[0].Scores.Keys.ToList(), header));

    /// <summary>Shards of `evaluate --circuit`.</summary>
    private static int MergeCircuit(string[] dirs, string outDir, JsonObject? settings) =>
        Merge(dirs, outDir, settings, CircuitFiles.Raw, "RelP-SAE sparse feature circuits",
            (records, header) => CircuitFiles.WriteAll(outDir, records, records[0].Curves.Keys.ToList(), header));

    /// <summary>Shards of `evaluate --graphs`: their pruning as their settings record it.</summary>
    private static int MergeGraphs(string[] dirs, string outDir, JsonObject? settings)
    {
        var recorded = settings ?? throw new RelpSaeException($"{dirs[0]} records no {EvaluationSettings.FileName}: graph shards need their pruning settings to merge");
        double Number(string key) => recorded[key]?.GetValue<double>() ?? throw new RelpSaeException($"{dirs[0]}/{EvaluationSettings.FileName} records no {key}");
        var pruning = new GraphRunSettings(Number("node_threshold"), Number("edge_threshold"), (int)Number("max_feature_nodes"),
            recorded["residual_saes"]?.GetValue<bool>() ?? false);
        var methods = GraphCliOptions.MeasuredMethods(recorded["methods"]?.GetValue<string>() ?? "", null);
        return Merge(dirs, outDir, settings, GraphFiles.Raw, "RelP-SAE attribution graphs", (records, header) => GraphFiles.WriteAll(outDir, records, methods, header, pruning));
    }

    private static int Merge<T>(string[] dirs, string outDir, JsonObject? settings, RawRecords<T> raw, string title, Action<List<T>, ReportHeader> write)
    {
        var records = dirs.SelectMany(d => raw.Read(d)).ToList();
        CheckShards(records.Select(raw.Index));
        Directory.CreateDirectory(outDir);
        using var held = FolderLock.Acquire(outDir);
        var header = (ReportHeader.Load(dirs[0]) ?? new ReportHeader(title, []))
            .With("merged", $"{Shards(dirs.Length)}: {string.Join(", ", dirs)}");
        write(records, header);
        if (settings is not null) EvaluationSettings.Write(outDir, settings);
        Console.WriteLine($"merged {records.Count} prompts from {Shards(dirs.Length)} into {outDir}");
        return 0;
    }

    /// <summary>Whether two paths name one folder (spelled differently, or one a link to the other).</summary>
    private static bool SameFolder(string a, string b)
    {
        static string Resolved(string dir)
        {
            var info = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            return info.Exists && info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : info.FullName;
        }
        return Resolved(a) == Resolved(b);
    }

    private static string Shards(int count) => $"{count} shard{(count == 1 ? "" : "s")}";

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
