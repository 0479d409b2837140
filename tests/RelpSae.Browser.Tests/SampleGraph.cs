using System.Text.Json.Nodes;

namespace RelpSae.Browser.Tests;

/// <summary>
/// A small graph.json in circuit-tracer's schema for a 6-layer model: six prompt tokens, features in three
/// layers (one with a feature dashboard), an error node, two logits and links of both signs, some with a
/// measured effect. One clerp holds "&lt;/script&gt;" so the page must keep the graph's text inert.
/// </summary>
internal static class SampleGraph
{
    public static readonly string[] Tokens = ["<bos>", "The", " capital", " of", " France", " is"];

    public static JsonObject Build()
    {
        var nodes = new JsonArray();
        for (int pos = 0; pos < Tokens.Length; pos++)
            nodes.Add(new JsonObject { ["node_id"] = $"E_{100 + pos}_{pos}", ["feature"] = pos, ["layer"] = "E", ["ctx_idx"] = pos, ["feature_type"] = "embedding", ["jsNodeId"] = $"E_{100 + pos}-{pos}", ["clerp"] = "", ["influence"] = 0.9 });
        JsonObject Feature(int layer, int feature, int pos, double activation, double influence, string clerp) => new()
        {
            ["node_id"] = $"{layer}_{feature}_{pos}", ["feature"] = feature, ["layer"] = $"{layer}", ["ctx_idx"] = pos,
            ["feature_type"] = "cross layer transcoder", ["jsNodeId"] = $"{layer}_{feature}-0", ["clerp"] = clerp,
            ["activation"] = activation, ["influence"] = influence, ["bias"] = -0.25,
        };
        nodes.Add(Feature(0, 11, 2, 3.5, 0.4, "capital"));
        nodes.Add(Feature(0, 42, 4, 6.25, 0.2, "France </script><b>not markup</b>"));
        nodes.Add(Feature(3, 7, 4, 2.0, 0.3, "country name"));
        nodes.Add(Feature(3, 9, 2, 1.5, 0.6, ""));
        var capitals = Feature(5, 123, 5, 9.5, 0.1, "say a capital city");
        capitals["dashboard"] = new JsonObject
        {
            ["feature_index"] = 123, ["frac_nonzero"] = 0.0021, ["max_act"] = 9.5,
            ["pos_str"] = new JsonArray(" Paris", " Lyon"), ["pos_token_ids"] = new JsonArray(6342, 9009), ["pos_values"] = new JsonArray(1.75, 1.25),
            ["neg_str"] = new JsonArray(" the"), ["neg_token_ids"] = new JsonArray(262), ["neg_values"] = new JsonArray(-0.5),
            ["activations"] = new JsonArray(
                new JsonObject { ["context_index"] = 4, ["position"] = 7, ["max_value"] = 9.5, ["max_value_token_index"] = 2,
                    ["tokens"] = new JsonArray("capital", " of", " Spain", " is"), ["token_ids"] = new JsonArray(1, 2, 3, 4), ["values"] = new JsonArray(0, 0.5, 9.5, 1.25) },
                new JsonObject { ["context_index"] = 9, ["position"] = 3, ["max_value"] = 4.0, ["max_value_token_index"] = 1,
                    ["tokens"] = new JsonArray(" in", " Rome", "\n"), ["token_ids"] = new JsonArray(5, 6, 7), ["values"] = new JsonArray(0, 4.0, 0) }),
        };
        nodes.Add(capitals);
        nodes.Add(Feature(5, 77, 5, 0.75, 0.7, "function word"));
        nodes.Add(new JsonObject { ["node_id"] = "0_3_5", ["feature"] = -1, ["layer"] = "3", ["ctx_idx"] = 5, ["feature_type"] = "mlp reconstruction error", ["jsNodeId"] = "3_5-0", ["clerp"] = "", ["influence"] = 0.5, ["activation"] = 1.25 });
        nodes.Add(new JsonObject { ["node_id"] = "7_6342_5", ["feature"] = 6342, ["layer"] = "7", ["ctx_idx"] = 5, ["feature_type"] = "logit", ["token_prob"] = 0.61, ["is_target_logit"] = true, ["jsNodeId"] = "L_6342-5", ["clerp"] = "Output \" Paris\" (p=0.610)" });
        nodes.Add(new JsonObject { ["node_id"] = "7_262_5", ["feature"] = 262, ["layer"] = "7", ["ctx_idx"] = 5, ["feature_type"] = "logit", ["token_prob"] = 0.05, ["is_target_logit"] = false, ["jsNodeId"] = "L_262-5", ["clerp"] = "Output \" the\" (p=0.050)" });

        var links = new JsonArray();
        void Link(string source, string target, double weight, double? measured = null)
        {
            var link = new JsonObject { ["source"] = source, ["target"] = target, ["weight"] = weight };
            if (measured is { } m) link["measured"] = m;
            links.Add(link);
        }
        Link("E_102_2", "0_11_2", 2.5);
        Link("E_104_4", "0_42_4", 4.0);
        Link("0_42_4", "3_7_4", 1.75, 1.5);
        Link("E_104_4", "3_7_4", 0.5);
        Link("0_11_2", "3_9_2", 1.25);
        Link("3_9_2", "5_123_5", 0.75, 0.5);
        Link("3_7_4", "5_123_5", 2.25, 2.0);
        Link("0_3_5", "5_123_5", -0.5);
        Link("E_105_5", "5_77_5", 1.0);
        Link("E_105_5", "0_3_5", 0.25);
        Link("5_123_5", "7_6342_5", 3.0, 2.75);
        Link("5_123_5", "7_262_5", -1.5, -1.25);
        Link("5_77_5", "7_262_5", 0.5);
        Link("0_3_5", "7_6342_5", 0.125);
        Link("E_105_5", "7_6342_5", -0.25);

        return new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["slug"] = "capital", ["scan"] = "sample-transcoders", ["transcoder_list"] = new JsonArray(),
                ["prompt_tokens"] = new JsonArray([.. Tokens.Select(t => JsonValue.Create(t))]), ["prompt"] = "The capital of France is", ["node_threshold"] = 0.8,
            },
            ["qParams"] = new JsonObject { ["pinnedIds"] = new JsonArray(), ["supernodes"] = new JsonArray(), ["linkType"] = "both", ["clickedId"] = "", ["sg_pos"] = "" },
            ["nodes"] = nodes,
            ["links"] = links,
        };
    }

    /// <summary>
    /// The sample graph with an intervention recorded as graph --ablate records it: feature 7 of layer 3 ablated, each
    /// feature's activation under it (the capital-city feature falls, the function-word one rises), and the two logits
    /// and one more token clean and intervened, with the graph's predictions beside the measured changes.
    /// </summary>
    public static JsonObject WithIntervention()
    {
        var graph = Build();
        var under = new Dictionary<string, double> { ["0_11_2"] = 3.5, ["0_42_4"] = 6.25, ["3_7_4"] = 0, ["3_9_2"] = 1.5, ["5_123_5"] = 1.5, ["5_77_5"] = 4.75 };
        foreach (var node in graph["nodes"]!.AsArray())
            if (under.TryGetValue((string)node!["node_id"]!, out var value)) node["intervened_activation"] = value;
        JsonObject Logit(int token, string text, bool inGraph, double pClean, double pIntervened, double measured, double? predicted) => new()
        {
            ["token"] = token, ["token_str"] = text, ["in_graph"] = inGraph, ["clean_logit"] = 10.0, ["intervened_logit"] = 10.0 + measured,
            ["clean_prob"] = pClean, ["intervened_prob"] = pIntervened, ["measured_delta"] = measured, ["predicted_delta"] = predicted,
        };
        graph["intervention"] = new JsonObject
        {
            ["edits"] = new JsonArray(new JsonObject { ["kind"] = "ablate", ["hook"] = "blocks.3.hook_mlp_out", ["feature"] = 7, ["value"] = 0 }),
            ["predicted"] = true,
            ["outside_graph"] = new JsonArray(),
            ["logits"] = new JsonArray(Logit(6342, " Paris", true, 0.61, 0.25, -1.75, -2.5), Logit(262, " the", true, 0.05, 0.125, 0.75, 1.25),
                Logit(3, " Madrid", false, 0.01, 0.0625, 1.5, null)),
        };
        return graph;
    }
}
