using CitySight.Admin.V1;
using CitySight.Inference;
using CitySight.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace CitySight.EndToEnd.Tests;

public sealed partial class AdminApiTests
{
    /// <summary>
    /// The reload bug of issue 12: the detect stage cached each camera's models, so a reload that gave a camera a new
    /// case type kept its frames away from the model that raises it. Two real models run side by side (vehicles →
    /// illegal_parking, people → street_stall); the camera first asks for parking only, then a reload adds stalls.
    /// </summary>
    [Fact]
    public async Task After_a_reload_adds_a_case_type_to_a_camera_its_frames_reach_the_model_for_it()
    {
        // The shipped manifest with two more entries: the same real COCO models, named for what they raise here.
        var manifest = Path.Combine(_dir, "manifest.yaml");
        File.WriteAllText(manifest, File.ReadAllText(Path.Combine(TestAssets.RepoRoot, "models", "manifest.yaml")) + """

              - name: vehicles
                file: yolox-nano-coco.onnx
                sha256: e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd
                input: { width: 416, height: 416, colour: bgr, scale: 1, resize: letterbox_topleft, pad: 114 }
                classes: *coco80
                case_types:
                  illegal_parking: [car, bus, truck, motorbike]

              - name: vendors
                file: fastestdet-coco.onnx
                sha256: 31cb14c017fce347cb4c846ec62fdf00d76bb3beecdf4be21e7116ac67feb880
                input: { width: 352, height: 352, colour: bgr, scale: 1/255, resize: stretch }
                classes: *coco80
                case_types:
                  street_stall: [person]

            """);
        WriteMain(retentionDays: 90, manifest: manifest, run: """
              run:
                - model: vehicles
                - model: vendors
            """);
        var cam = Id("r1");
        WriteRoutedGroup(cam, "illegal_parking");
        await StartAsync();
        await UntilStreamingAsync(cam);

        var detectors = _app!.Services.GetRequiredService<IReadOnlyList<BatchingDetector>>();
        var vehicles = detectors.Single(d => d.Spec.Name == "vehicles");
        var vendors = detectors.Single(d => d.Spec.Name == "vendors");
        await UntilAsync(() => Task.FromResult(vehicles.Frames >= 2), "the vehicles model detecting the camera's frames");
        Assert.Equal(0, vendors.Frames);

        WriteRoutedGroup(cam, "illegal_parking", "street_stall");
        var reloaded = await Admin.ReloadConfigAsync(new ReloadConfigRequest());
        Assert.True(reloaded.Ok, string.Join("\n", reloaded.Errors));
        Assert.Contains("detectors", Assert.Single(reloaded.Changed).Fields);

        var vehiclesAtReload = vehicles.Frames;
        await UntilAsync(() => Task.FromResult(vendors.Frames >= 2), "the vendors model detecting the camera's frames after the reload");
        Assert.True(vehicles.Frames > vehiclesAtReload, "the vehicles model still gets the camera's frames");
    }

    /// <summary>One looping real-time clip camera asking for <paramref name="caseTypes"/>, its zone the whole frame.</summary>
    private void WriteRoutedGroup(string camera, params string[] caseTypes)
    {
        var types = string.Join(", ", caseTypes);
        File.WriteAllText(Path.Combine(_dir, "cameras", "routes.yaml"), $"""
            group:
              id: routes
              name: Routes
              defaults:
                sample_interval: 500ms
                real_time: true
                loop: true
            cameras:
              - id: {camera}
                name: Camera {camera}
                url: {Clip}
                latitude: 31.23
                longitude: 121.47
                detectors: [{types}]
                zones:
                  - name: street
                    polygon: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
                    case_types: [{types}]
            """);
    }
}
