using CitySight.Admin.V1;
using Grpc.Core;

namespace CitySight.Service.Admin;

/// <summary>The CameraAdmin gRPC service (proto/citysight/v1/admin.proto) over <see cref="CameraAdministrator"/>.</summary>
public sealed class CameraAdminService(CameraAdministrator admin) : CameraAdmin.CameraAdminBase
{
    public override Task<ListCamerasReply> ListCameras(ListCamerasRequest request, ServerCallContext context) =>
        Task.FromResult(admin.List(request.GroupId)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"no camera group {request.GroupId}")));

    public override Task<CameraInfo> GetCamera(GetCameraRequest request, ServerCallContext context) =>
        Task.FromResult(admin.Get(RequireId(request.CameraId)) ?? throw UnknownCamera(request.CameraId));

    public override async Task<CameraInfo> SetCameraEnabled(SetCameraEnabledRequest request, ServerCallContext context)
    {
        try
        {
            return await admin.SetEnabledAsync(RequireId(request.CameraId), request.Enabled, context.CancellationToken)
                ?? throw UnknownCamera(request.CameraId);
        }
        catch (CameraAdminException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    public override async Task<ReloadConfigReply> ReloadConfig(ReloadConfigRequest request, ServerCallContext context)
    {
        try
        {
            return await admin.ReloadAsync(context.CancellationToken);
        }
        catch (CameraAdminException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    private static string RequireId(string id) =>
        string.IsNullOrWhiteSpace(id) ? throw new RpcException(new Status(StatusCode.InvalidArgument, "camera_id is required")) : id;

    private static RpcException UnknownCamera(string id) => new(new Status(StatusCode.NotFound, $"no camera {id}"));
}
