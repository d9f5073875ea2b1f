/*
 * bcryptprimitives.dll stub for running Go programs under Wine 8.0.
 *
 * Go 1.22 and later take their random numbers from ProcessPrng in
 * bcryptprimitives.dll and refuse to start without it; Wine 8.0 ships no such
 * DLL. This stub provides ProcessPrng on top of SystemFunction036
 * (RtlGenRandom in advapi32), which Wine implements. It is test tooling only:
 * scripts/wine-env.sh builds it with MinGW and copies it into the test prefix.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32 -s
 */
#include <windows.h>

/* RtlGenRandom's real name; ntsecapi.h only offers it behind a macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * ProcessPrng fills data with len random bytes. RtlGenRandom takes a 32-bit
 * length, so larger requests are served in chunks. The real function never
 * fails; this one returns FALSE only if RtlGenRandom does, which Go reports as
 * a fatal error instead of carrying on with bytes that are not random.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    const SIZE_T chunk = 1u << 30;

    while (len > 0) {
        ULONG n = (ULONG)(len < chunk ? len : chunk);
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
