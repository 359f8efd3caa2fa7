using OpenCvSharp;
using OpenCvSharp.Internal;

namespace CitySight.Imaging;

/// <summary>
/// OpenCV's INTER_AREA resize between caller-owned BGR24 buffers with no managed allocation: the native calls
/// OpenCvSharp's Mat/InputArray/OutputArray wrappers make, without the wrapper objects (about 300 B per call, which
/// adds up when every frame of every camera is scaled).
/// </summary>
internal static unsafe class AreaResize
{
    public static void Bgr(byte* src, int width, int height, byte* dst, int dstWidth, int dstHeight)
    {
        IntPtr srcMat = 0, dstMat = 0, input = 0, output = 0;
        try
        {
            NativeMethods.HandleException(NativeMethods.core_Mat_new8(
                height, width, MatType.CV_8UC3, (IntPtr)src, width * 3, out srcMat));
            NativeMethods.HandleException(NativeMethods.core_Mat_new8(
                dstHeight, dstWidth, MatType.CV_8UC3, (IntPtr)dst, dstWidth * 3, out dstMat));
            NativeMethods.HandleException(NativeMethods.core_InputArray_new_byMat(srcMat, out input));
            // The header already has the requested size and type, so OpenCV writes into dst and allocates nothing.
            NativeMethods.HandleException(NativeMethods.core_OutputArray_new_byMat(dstMat, out output));
            NativeMethods.HandleException(NativeMethods.imgproc_resize(
                input, output, new Size(dstWidth, dstHeight), 0, 0, (int)InterpolationFlags.Area));
        }
        finally
        {
            if (output != 0) NativeMethods.HandleException(NativeMethods.core_OutputArray_delete(output));
            if (input != 0) NativeMethods.HandleException(NativeMethods.core_InputArray_delete(input));
            if (dstMat != 0) NativeMethods.HandleException(NativeMethods.core_Mat_delete(dstMat));
            if (srcMat != 0) NativeMethods.HandleException(NativeMethods.core_Mat_delete(srcMat));
        }
    }
}
