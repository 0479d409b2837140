using RelpSae.Graphs;

namespace RelpSae.Tests.Graphs;

/// <summary>A graph the viewer could not draw is refused in one line naming the key, node or link at fault, and no page is written.</summary>
public class GraphViewerInputTests
{
    private const string Tokens = """{"prompt_tokens": ["a", "b"]}""";

    private static string Graph(string nodes = """[{"node_id": "E_1_0", "ctx_idx": 0}, {"node_id": "0_5_1", "ctx_idx": 1}]""",
        string links = """[{"source": "E_1_0", "target": "0_5_1", "weight": 0.5}]""", string metadata = Tokens) =>
        $$"""{"metadata": {{metadata}}, "qParams": {}, "nodes": {{nodes}}, "links": {{links}}}""";

    [Theory]
    [InlineData("{\"nodes\": [", "the graph is not valid JSON (")]
    [InlineData("[1, 2]", "the graph has no \"prompt_tokens\" array in its metadata")]
    [InlineData("{\"metadata\": {\"prompt_tokens\": []}, \"links\": []}", "the graph has no \"nodes\" array")]
    public void AGraphThatIsNotOneIsRefused(string json, string expected) => Refused(json, expected);

    [Fact]
    public void NodesNeedUniqueIdsAndAPositionAmongThePromptsTokens()
    {
        Refused(Graph(nodes: """[{"node_id": 3, "ctx_idx": 0}]"""), "node 0 has no string \"node_id\"");
        Refused(Graph(nodes: """[{"node_id": "E_1_0", "ctx_idx": 0}, {"node_id": "E_1_0", "ctx_idx": 1}]"""), "node id 'E_1_0' appears twice");
        // A position far past the prompt would have drawn a billion columns.
        Refused(Graph(nodes: """[{"node_id": "E_1_0", "ctx_idx": 1000000000}]"""), "node 'E_1_0' has ctx_idx 1000000000, not a position among the prompt's 2 tokens");
        Refused(Graph(nodes: """[{"node_id": "E_1_0"}]"""), "node 'E_1_0' has ctx_idx missing, not a position among the prompt's 2 tokens");
    }

    [Fact]
    public void LinksNeedTwoKnownNodesAndAFiniteWeight()
    {
        Refused(Graph(links: """[{"source": "E_1_0", "target": "9_9_9", "weight": 1}]"""), "link 0's target is not one of the graph's nodes");
        Refused(Graph(links: """[{"source": "E_1_0", "target": "0_5_1", "weight": 1}, {"target": "0_5_1", "weight": 1}]"""), "link 1's source is not one of the graph's nodes");
        Refused(Graph(links: """[{"source": "E_1_0", "target": "0_5_1", "weight": 1e999}]"""), "link 0 has no finite \"weight\"");
        Refused(Graph(links: """[{"source": "E_1_0", "target": "0_5_1", "weight": "big"}]"""), "link 0 has no finite \"weight\"");
    }

    [Fact]
    public void AGoodGraphIsInlinedWithItsTextInert()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        string path = GraphViewer.Write(dir, Graph(metadata: """{"prompt_tokens": ["</script><script>alert(1)</script>", "b"]}"""));
        Assert.Equal(Path.Combine(dir, GraphViewer.FileName), path);
        string page = File.ReadAllText(path);
        // The page's two script blocks close once each; the token's "<" became \u003c.
        Assert.Equal(2, page.Split("</script>").Length - 1);
        Assert.Contains("\\u003c/script>\\u003cscript>alert(1)\\u003c/script>", page);
        Assert.DoesNotContain("/*GRAPH_JSON*/", page);
        Assert.DoesNotContain("/*VIEWER_JS*/", page);
    }

    private static void Refused(string json, string expected)
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        string index = Path.Combine(dir, GraphViewer.FileName);
        File.WriteAllText(index, "an earlier page");
        var e = Assert.Throws<RelpSaeException>(() => GraphViewer.Write(dir, json));
        Assert.StartsWith($"{index}: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal("an earlier page", File.ReadAllText(index));
    }
}
