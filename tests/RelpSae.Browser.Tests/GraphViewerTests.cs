using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RelpSae.Graphs;

namespace RelpSae.Browser.Tests;

/// <summary>The attribution-graph viewer (index.html beside graph.json) in a real browser, on <see cref="SampleGraph"/>.</summary>
public class GraphViewerTests
{
    private static async Task<HeadlessChromium> OpenAsync(JsonObject graph)
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        return await HeadlessChromium.OpenAsync(GraphViewer.Write(dir, graph.ToJsonString()));
    }

    private static string Node(string id) => $"svg [data-node-id=\"{id}\"]";

    [Fact]
    public async Task EveryNodeAndLinkIsAnSvgElementWithoutConsoleErrors()
    {
        var graph = SampleGraph.Build();
        await using var chromium = await OpenAsync(graph);
        var page = chromium.Page;

        var drawn = await page.EvalOnSelectorAllAsync<string[][]>("svg [data-node-id]",
            "es => es.map(e => [e.dataset.nodeId, e.namespaceURI, e.tagName, String(e.getBoundingClientRect().width > 0)])");
        var ids = graph["nodes"]!.AsArray().Select(n => (string)n!["node_id"]!).ToArray();
        Assert.Equal(ids.Order(), drawn.Select(d => d[0]).Order());
        Assert.All(drawn, d => Assert.Equal(["http://www.w3.org/2000/svg", "g", "true"], d[1..]));
        Assert.Equal(graph["links"]!.AsArray().Count, await page.Locator("svg path.edge").CountAsync());
        // Embeddings on the bottom row, logits on the top, one column per token, labelled in order.
        double Y(string id) => page.Locator(Node(id)).BoundingBoxAsync().Result!.Y;
        Assert.True(Y("E_105_5") > Y("0_3_5") && Y("0_3_5") > Y("5_123_5") && Y("5_123_5") > Y("7_6342_5"));
        Assert.Equal(SampleGraph.Tokens, await page.EvalOnSelectorAllAsync<string[]>("text.token", "ts => ts.map(t => t.firstChild.textContent)"));
        // The clerp holding "</script>" reads as text; nothing of it became markup.
        await page.HoverAsync(Node("0_42_4"));
        Assert.Contains("France </script><b>not markup</b>", await page.InnerTextAsync("#tooltip"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => [...document.querySelectorAll('b')].filter(b => b.textContent === 'not markup').length"));
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task AGraphOverResidualSaesIsDrawnWithItsFeaturesAndErrorNodes()
    {
        var graph = SampleGraph.Build();
        foreach (var node in graph["nodes"]!.AsArray().Select(n => n!.AsObject()))
            node["feature_type"] = (string)node["feature_type"]! switch
            {
                "cross layer transcoder" => GraphJson.ResidualFeature,
                "mlp reconstruction error" => GraphJson.ResidualError,
                var other => other,
            };
        await using var chromium = await OpenAsync(graph);
        var kinds = await chromium.Page.EvalOnSelectorAllAsync<string[][]>("svg g.node", "gs => gs.map(g => [g.dataset.nodeId, g.getAttribute('class')])");
        Assert.Equal(graph["nodes"]!.AsArray().Count, kinds.Length);
        Assert.Equal("node error", kinds.Single(k => k[0] == "0_3_5")[1]);
        Assert.Equal("node feature", kinds.Single(k => k[0] == "5_123_5")[1]);
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task HoveringANodeShowsItsTooltipAndLightsOnlyItsEdges()
    {
        await using var chromium = await OpenAsync(SampleGraph.Build());
        var page = chromium.Page;
        Assert.False(await page.IsVisibleAsync("#tooltip"));

        await page.HoverAsync(Node("5_123_5"));
        Assert.True(await page.IsVisibleAsync("#tooltip"));
        var tooltip = await page.InnerTextAsync("#tooltip");
        Assert.Contains("say a capital city", tooltip);
        Assert.Contains("activation 9.5", tooltip);
        var lit = await page.EvalOnSelectorAllAsync<string[][]>("path.edge.lit", "ps => ps.map(p => [p.dataset.source, p.dataset.target])");
        Assert.Equal(5, lit.Length); // three in, two out
        Assert.All(lit, l => Assert.Contains("5_123_5", l));

        await page.Mouse.MoveAsync(1, 1);
        Assert.False(await page.IsVisibleAsync("#tooltip"));
        Assert.Equal(0, await page.Locator("path.edge.lit").CountAsync());
        // A clicked node keeps its edges lit once the mouse leaves it.
        await page.ClickAsync(Node("7_262_5"));
        await page.Mouse.MoveAsync(1, 1);
        Assert.Equal(["5_123_5 7_262_5", "5_77_5 7_262_5"], (await page.EvalOnSelectorAllAsync<string[]>("path.edge.lit", "ps => ps.map(p => p.dataset.source + ' ' + p.dataset.target)")).Order());
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task ClickingANodeListsExactlyItsEdgesByWeight()
    {
        var graph = SampleGraph.Build();
        var links = graph["links"]!.AsArray().Select(l => (Source: (string)l!["source"]!, Target: (string)l["target"]!, Weight: (double)l["weight"]!)).ToList();
        await using var chromium = await OpenAsync(graph);
        var page = chromium.Page;

        foreach (var node in graph["nodes"]!.AsArray())
        {
            string id = (string)node!["node_id"]!;
            await page.ClickAsync(Node(id));
            Assert.Equal(id, await page.InnerTextAsync("#node-facts dd"));
            foreach (var (table, mine, peer) in new[] { ("incoming", (Func<(string Source, string Target, double Weight), string>)(l => l.Target), (Func<(string Source, string Target, double Weight), string>)(l => l.Source)), ("outgoing", l => l.Source, l => l.Target) })
            {
                var expected = links.Where(l => mine(l) == id).OrderByDescending(l => Math.Abs(l.Weight)).Select(l => $"{peer(l)} {l.Weight}");
                var listed = await page.EvalOnSelectorAllAsync<string[]>($"#{table} tr[data-node-id]", "rs => rs.map(r => r.dataset.nodeId + ' ' + r.dataset.weight)");
                Assert.Equal(expected, listed);
            }
        }
        // The target logit: its inputs with their measured effects beside the weights, strongest first.
        await page.ClickAsync(Node("7_6342_5"));
        Assert.Equal(["node", "weight", "measured"], await page.EvalOnSelectorAllAsync<string[]>("#incoming th", "hs => hs.map(h => h.textContent)"));
        Assert.Equal(["say a capital city", "3", "2.75"], await page.EvalOnSelectorAllAsync<string[]>("#incoming tr[data-node-id] >> nth=0 >> td", "ds => ds.map(d => d.textContent)"));
        // A row of the list leads to that node.
        await page.ClickAsync("#incoming tr[data-node-id=\"5_123_5\"]");
        Assert.Equal("say a capital city", await page.InnerTextAsync("#node-title"));
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task AClickedFeatureShowsItsFactsAndDashboard()
    {
        await using var chromium = await OpenAsync(SampleGraph.Build());
        var page = chromium.Page;
        await page.ClickAsync(Node("5_123_5"));

        var facts = await page.EvalOnSelectorAllAsync<string[]>("#node-facts > *", "es => es.map(e => e.textContent)");
        string Fact(string name) => facts[Array.IndexOf(facts, name) + 1];
        Assert.Equal(("9.5", "-0.25", "0.1"), (Fact("activation"), Fact("bias"), Fact("influence")));
        Assert.Contains("fires on 0.21% of tokens", await page.InnerTextAsync("#dashboard"));
        Assert.Equal(["“ Paris” 1.75  ", "“ Lyon” 1.25  "], await page.EvalOnSelectorAllAsync<string[]>("#dashboard .outputs.pos span", "s => s.map(e => e.textContent)"));
        Assert.Equal(2, await page.Locator("#dashboard .context").CountAsync());
        // Each context token shaded by its activation over the feature's maximum; the peak marked.
        Assert.Equal(" Spain", await page.InnerTextAsync("#dashboard .context >> nth=0 >> .peak"));
        var shades = await page.EvalOnSelectorAllAsync<string[]>("#dashboard .context >> nth=0 >> span", "s => s.map(e => e.style.background)");
        Assert.Equal("rgba(245, 158, 11, 0)", shades[0]);
        Assert.Equal("rgb(245, 158, 11)", shades[2]);
        Assert.Equal("⏎", await page.InnerTextAsync("#dashboard .context >> nth=1 >> span >> nth=2"));

        // A node without a dashboard shows none.
        await page.ClickAsync(Node("3_7_4"));
        Assert.Equal(0, await page.Locator("#dashboard").CountAsync());
        Assert.Empty(chromium.Errors);
    }

    [Fact]
    public async Task PinnedNodesGroupedIntoASupernodeAreSavedAsCircuitTracerQParams()
    {
        var graph = SampleGraph.Build();
        await using var chromium = await OpenAsync(graph);
        var page = chromium.Page;

        await page.ClickAsync(Node("0_42_4"), new() { Modifiers = [KeyboardModifier.Shift] });
        await page.ClickAsync(Node("3_7_4"), new() { Modifiers = [KeyboardModifier.Shift] });
        await page.FillAsync("#supernode-name", "France");
        await page.ClickAsync("#group");
        await page.ClickAsync(Node("5_123_5"));
        await page.ClickAsync("#pin-toggle");
        Assert.Equal("Unpin", await page.InnerTextAsync("#pin-toggle"));
        Assert.Equal(3, await page.Locator("svg .node.pinned").CountAsync());
        Assert.Equal(3, await page.Locator("#pins li").CountAsync());

        var saved = await SaveAsync(page);
        var q = saved["qParams"]!;
        Assert.Equal(["0_42_4", "3_7_4", "5_123_5"], q["pinnedIds"]!.AsArray().Select(i => (string)i!));
        Assert.Equal("[[\"France\",\"0_42_4\",\"3_7_4\"]]", q["supernodes"]!.ToJsonString());
        Assert.Equal(("both", "5_123_5", ""), ((string)q["linkType"]!, (string)q["clickedId"]!, (string)q["sg_pos"]!));
        // Everything else is the graph as loaded.
        saved["qParams"] = graph["qParams"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(graph, saved));

        // Unpinning a member takes it out of its supernode; the state saved reopens as it was.
        await page.ClickAsync("#pins li[data-node-id=\"3_7_4\"] button");
        var again = await SaveAsync(page);
        Assert.Equal("[[\"France\",\"0_42_4\"]]", again["qParams"]!["supernodes"]!.ToJsonString());
        await using var reopened = await OpenAsync(again.AsObject());
        Assert.Equal(["0_42_4", "5_123_5"], await reopened.Page.EvalOnSelectorAllAsync<string[]>("svg .node.pinned", "es => es.map(e => e.dataset.nodeId)"));
        Assert.Equal("France", await reopened.Page.InnerTextAsync("#supernodes li b"));
        Assert.Equal("say a capital city", await reopened.Page.InnerTextAsync("#node-title"));
        Assert.Empty(chromium.Errors);
        Assert.Empty(reopened.Errors);
    }

    [Fact]
    public async Task ARecordedInterventionIsListedAndColoursNodesByTheirChange()
    {
        await using (var plain = await OpenAsync(SampleGraph.Build()))
            Assert.False(await plain.Page.IsVisibleAsync("#intervention"));
        await using var chromium = await OpenAsync(SampleGraph.WithIntervention());
        var page = chromium.Page;

        Assert.True(await page.IsVisibleAsync("#intervention"));
        Assert.Equal(["ablate blocks.3.hook_mlp_out:7"], await page.EvalOnSelectorAllAsync<string[]>("#intervention-edits li", "ls => ls.map(l => l.textContent)"));
        var rows = await page.EvalOnSelectorAllAsync<string[][]>("#intervention-logits tr[data-token]", "rs => rs.map(r => [...r.children].map(d => d.textContent))");
        Assert.Equal([["“ Paris”", "0.61 → 0.25", "-1.75", "-2.5"], ["“ the”", "0.05 → 0.125", "0.75", "1.25"], ["“ Madrid” *", "0.01 → 0.0625", "1.5", "—"]], rows);
        // The edited node is outlined; the others are drawn as before until the toggle is on.
        Assert.Equal(["3_7_4"], await page.EvalOnSelectorAllAsync<string[]>("svg .node.edited", "es => es.map(e => e.dataset.nodeId)"));
        string Fill(string id) => page.EvalOnSelectorAsync<string>(Node(id) + " > :first-child", "e => e.style.fill").Result;
        Assert.Equal("", Fill("5_123_5"));

        await page.ClickAsync("#colour-by-change");
        // The capital-city feature fell most (9.5 → 1.5): the deepest red; the edited one fell 2, the function-word one rose 4.
        Assert.Equal("rgb(197, 48, 48)", Fill("5_123_5"));
        Assert.Equal("rgba(197, 48, 48, 0.25)", Fill("3_7_4"));
        Assert.Equal("rgba(43, 108, 176, 0.5)", Fill("5_77_5"));
        Assert.Equal("rgba(43, 108, 176, 0)", Fill("0_11_2"));
        Assert.Equal("rgb(197, 48, 48)", Fill("7_6342_5"));
        Assert.Equal("", Fill("0_3_5")); // an error node has no activation to change

        await page.HoverAsync(Node("3_7_4"));
        Assert.Contains("under the intervention: activation 2 → 0 (edited)", await page.InnerTextAsync("#tooltip"));
        await page.HoverAsync(Node("7_6342_5"));
        Assert.Contains("under the intervention: logit − mean logit -1.75 (measured)", await page.InnerTextAsync("#tooltip"));
        await page.ClickAsync("#colour-by-change");
        Assert.Equal("", Fill("5_123_5"));
        Assert.Empty(chromium.Errors);
    }

    private static async Task<JsonNode> SaveAsync(IPage page)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#save"));
        Assert.Equal("graph.json", download.SuggestedFilename);
        return JsonNode.Parse(await File.ReadAllTextAsync((await download.PathAsync())!))!;
    }

    [Fact]
    public async Task TheWeightSliderHidesWeakerEdges()
    {
        var graph = SampleGraph.Build();
        await using var chromium = await OpenAsync(graph);
        var page = chromium.Page;
        var weights = graph["links"]!.AsArray().Select(l => Math.Abs((double)l!["weight"]!)).ToList();

        await page.FillAsync("#min-weight", "0.5"); // half the largest |weight|, 4
        int kept = weights.Count(w => w >= 2);
        Assert.Equal(kept, await page.Locator("path.edge:not(.filtered)").CountAsync());
        Assert.Equal(weights.Count - kept, await page.Locator("path.edge.filtered").CountAsync());
        Assert.Equal($"{graph["nodes"]!.AsArray().Count} nodes, {kept} of {weights.Count} edges", await page.InnerTextAsync("#counts"));
        Assert.Empty(chromium.Errors);
    }

    /// <summary>
    /// A screenshot of the viewer with the target logit's strongest input clicked (and, for a graph with a recorded
    /// intervention, its nodes coloured by their change under it). Set RELPSAE_GRAPH_SCREENSHOT to
    /// the PNG to write (docs/images/graph-viewer.png) and RELPSAE_GRAPH_JSON to a graph.json to draw instead of
    /// the sample graph; see docs/graphs.md.
    /// </summary>
    [Fact]
    public async Task ScreenshotOfAGraph()
    {
        string? source = Environment.GetEnvironmentVariable("RELPSAE_GRAPH_JSON");
        var graph = source is null ? SampleGraph.Build() : JsonNode.Parse(File.ReadAllText(source))!.AsObject();
        string png = Environment.GetEnvironmentVariable("RELPSAE_GRAPH_SCREENSHOT") ?? Path.Combine(Directory.CreateTempSubdirectory().FullName, "graph.png");
        await using var chromium = await OpenAsync(graph);
        var page = chromium.Page;
        await page.SetViewportSizeAsync(1400, 760);
        await page.ReloadAsync(); // laid out for this size
        var target = graph["nodes"]!.AsArray().FirstOrDefault(n => (bool?)n!["is_target_logit"] == true);
        string? strongest = graph["links"]!.AsArray().Where(l => (string?)l!["target"] == (string?)target?["node_id"])
            .MaxBy(l => Math.Abs((double)l!["weight"]!))?["source"]?.GetValue<string>();
        if (strongest is not null) await page.ClickAsync(Node(strongest));
        // A recorded intervention is shown with the nodes coloured by their change.
        if (graph.ContainsKey("intervention")) await page.ClickAsync("#colour-by-change");
        await page.Mouse.MoveAsync(1, 1);
        await page.ScreenshotAsync(new() { Path = png });
        Assert.True(new FileInfo(png).Length > 10_000, $"{png} is nearly empty");
        Assert.Empty(chromium.Errors);
    }
}
