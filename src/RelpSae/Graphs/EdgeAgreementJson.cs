using System.Text.Json;
using RelpSae.Reports;

namespace RelpSae.Graphs;

/// <summary>
/// The edges block as results.json holds it, with the other protocols' keys: the source nodes the bootstrap resampled and
/// how often, then per method its name and, for "all" and each edge type, the number of edges and pearson, spearman, sign_agreement and relative_error, each with its _ci95 pair.
/// </summary>
public static class EdgeAgreementJson
{
    /// <summary>Writes the "edges" property into an object being written.</summary>
    public static void Write(Utf8JsonWriter w, EdgeAgreement agreement)
    {
        w.WriteStartObject("edges");
        w.WriteNumber("source_nodes", agreement.SourceNodes);
        w.WriteString("bootstrap_unit", "source node");
        w.WriteNumber("resamples", agreement.Resamples);
        w.WriteStartArray("methods");
        foreach (var method in agreement.Methods)
        {
            w.WriteStartObject();
            w.WriteString("name", method.Method);
            foreach (var (type, s) in method.ByType)
            {
                w.WriteStartObject(type);
                w.WriteNumber("edges", s.Edges);
                EvaluationFiles.WriteEstimate(w, "pearson", s.Pearson);
                EvaluationFiles.WriteEstimate(w, "spearman", s.Spearman);
                EvaluationFiles.WriteEstimate(w, "sign_agreement", s.SignAgreement);
                EvaluationFiles.WriteEstimate(w, "relative_error", s.RelativeError);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A JSON document holding only the edges block, indented as results.json is.</summary>
    public static string Text(EdgeAgreement agreement) => ProtocolOutput.Json(w =>
    {
        w.WriteStartObject();
        Write(w, agreement);
        w.WriteEndObject();
    });
}
