using CitySight.Imaging;
using CitySight.Tests;

namespace CitySight.Inference.Tests;

public class ModelLocatorTests
{
    private static ModelSpec Spec(string file, string? sha = null) => new()
    {
        Name = "m",
        File = file,
        Sha256 = sha,
        Input = new PreprocessSpec(640, 640),
        Classes = ["a"],
    };

    [Fact]
    public void Not_found_lists_the_folders_and_says_how_to_get_a_model()
    {
        var a = TestAssets.TempDir("loc-a");
        var b = TestAssets.TempDir("loc-b");

        var ex = Assert.Throws<ModelNotFoundException>(() => ModelLocator.Locate(Spec("missing.onnx"), [a, b]));

        Assert.Contains("missing.onnx", ex.Message);
        Assert.Contains(a, ex.Message);
        Assert.Contains(b, ex.Message);
        Assert.Contains("models/", ex.Message);
        Assert.Contains("models/manifest.yaml", ex.Message);
        Assert.Contains("yolo export model=yolov8n.pt format=onnx", ex.Message);
        Assert.Equal([a, b], ex.SearchedFolders);
    }

    [Fact]
    public void The_first_folder_that_has_the_file_wins()
    {
        var empty = TestAssets.TempDir("loc-empty");
        var first = TestAssets.TempDir("loc-first");
        var second = TestAssets.TempDir("loc-second");
        File.WriteAllText(Path.Combine(first, "x.onnx"), "1");
        File.WriteAllText(Path.Combine(second, "x.onnx"), "2");

        Assert.Equal(Path.Combine(first, "x.onnx"), ModelLocator.Locate(Spec("x.onnx"), [empty, first, second]));
        Assert.Equal(Path.Combine(second, "x.onnx"), ModelLocator.Locate(Spec("x.onnx"), [empty, second, first]));
    }

    [Fact]
    public void A_wrong_hash_names_file_expected_and_actual()
    {
        var dir = TestAssets.TempDir("loc-hash");
        var path = Path.Combine(dir, "x.onnx");
        File.WriteAllText(path, "abc");
        const string abcSha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        var expected = new string('0', 64);

        var ex = Assert.Throws<ModelHashMismatchException>(() => ModelLocator.Locate(Spec("x.onnx", expected), [dir]));

        Assert.Contains(path, ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Contains(abcSha, ex.Message);
        Assert.Equal(path, ModelLocator.Locate(Spec("x.onnx", abcSha), [dir]));
    }

    [Fact]
    public void The_default_model_is_found_in_the_shared_assets_with_the_declared_hash()
    {
        var spec = ModelManifest.Load(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")).Default;
        var shared = Path.GetDirectoryName(TestAssets.Model(spec.File))!;
        var empty = TestAssets.TempDir("loc-models");

        var path = ModelLocator.Locate(spec, [empty, shared]);

        Assert.Equal(Path.Combine(shared, spec.File), path);
    }
}
