using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>Each feature's mean activation over a dataset (feature_means.safetensors beside the SAE): the mean-ablation baseline.</summary>
public static class FeatureMeans
{
    public const string FileName = "feature_means.safetensors";
    public const string TensorName = "feature_means";

    public static void Save(string saeDir, float[] means) =>
        SafetensorsWriter.Write(Path.Combine(saeDir, FileName), [new FloatTensor(TensorName, [means.Length], means)]);

    public static float[] Load(string saeDir)
    {
        var path = Path.Combine(saeDir, FileName);
        if (!File.Exists(path))
            throw new RelpSaeException($"{path} is missing: evaluate the SAE on its model (SaeModelEvaluation) to compute the feature means");
        using var file = SafetensorsFile.Open(path);
        if (!file.Contains(TensorName)) throw new RelpSaeException($"{path} holds no tensor \"{TensorName}\"");
        return file.ReadFloat(TensorName).Data;
    }
}
