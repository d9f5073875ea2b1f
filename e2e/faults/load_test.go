package faults

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/officescan-exporter/officescan_exporter/e2e/e2eutil"
	"github.com/officescan-exporter/officescan_exporter/e2e/fixture"
)

const (
	user     = "prometheus"
	password = "correct horse battery staple"
	// scrapes and clients of one load run; each run is also bounded in time.
	scrapes = 1000
	clients = 50
)

// tlsExporter writes a self-signed certificate for 127.0.0.1 and a web config
// with TLS and a bcrypt basic-auth user, starts the exporter with it and
// returns its https URL and a client that trusts the certificate.
func tlsExporter(t *testing.T, args ...string) (string, *http.Client) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "officescan_exporter test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The cost the toolkit's docs use; each request with credentials pays it
	// once until the toolkit's cache has the pair.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 10)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		"web.yml": []byte(fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n",
			filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), user, hash)),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := e2eutil.FreeAddr(t)
	logf, err := os.Create(filepath.Join(dir, "exporter.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e2eutil.Build(t, "cmd/officescan_exporter"),
		append([]string{"--web.listen-address=" + addr, "--web.config.file=" + filepath.Join(dir, "web.yml")}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	e2eutil.Start(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("exporter log:\n%s", b)
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: clients,
	}}
	url := "https://" + addr
	e2eutil.Eventually(t, 15*time.Second, func() error {
		resp, err := authGet(client, url+"/metrics", user, password)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %s", resp.Status)
		}
		return nil
	})
	return url, client
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func authGet(c *http.Client, url, user, pass string) (*http.Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return c.Do(req)
}

// TestTLSAndBasicAuthEndToEnd: with --web.config.file, a request without
// credentials or with wrong ones gets 401 and no metrics; the right ones get
// the metrics; plain HTTP on the TLS port is refused, with no metrics either.
func TestTLSAndBasicAuthEndToEnd(t *testing.T) {
	e2eutil.Require(t)
	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	url, client := tlsExporter(t, srv.Args()...)
	for _, path := range []string{"/metrics", "/readiness", "/"} {
		for name, tc := range map[string]struct {
			user, pass string
			status     int
		}{
			"no credentials": {"", "", 401},
			"wrong password": {user, "wrong", 401},
			"wrong user":     {"admin", password, 401},
			"right":          {user, password, 200},
		} {
			resp, err := authGet(client, url+path, tc.user, tc.pass)
			if err != nil {
				t.Fatalf("%s %s: %v", path, name, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: status %d, want %d", path, name, resp.StatusCode, tc.status)
			}
			leaked := strings.Contains(string(body), "officescan_") || strings.Contains(string(body), "DbServer")
			if tc.status == 401 && leaked {
				t.Errorf("%s %s: 401 answer carries exporter data:\n%.300s", path, name, body)
			}
			if tc.status == 200 && path == "/metrics" && !strings.Contains(string(body), "officescan_scrape_collector_success") {
				t.Errorf("%s %s: no metrics in the answer", path, name)
			}
		}
	}

	// Plain HTTP on the TLS port, with the right credentials: Go's TLS server
	// answers 400 and closes; nothing of the exporter leaks.
	plainURL := "http://" + strings.TrimPrefix(url, "https://") + "/metrics"
	resp, err := authGet(&http.Client{Timeout: 5 * time.Second}, plainURL, user, password)
	if err != nil {
		t.Logf("plain HTTP on the TLS port: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("plain HTTP on the TLS port: %s %q", resp.Status, body)
		if resp.StatusCode != 400 || strings.Contains(string(body), "officescan_") {
			t.Errorf("plain HTTP on the TLS port: %s\n%.300s", resp.Status, body)
		}
	}
	// The same with a raw connection, reading everything the server sends.
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "https://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic cHJvbWV0aGV1czpjb3JyZWN0IGhvcnNlIGJhdHRlcnkgc3RhcGxl\r\n\r\n")
	raw, _ := io.ReadAll(bufio.NewReader(conn))
	if !strings.HasPrefix(string(raw), "HTTP/1.0 400") || strings.Contains(string(raw), "officescan_") {
		t.Errorf("raw plain HTTP on the TLS port got %q", raw)
	}
}

// load sends scrapes requests from clients goroutines and returns how many
// got each status; transport errors fail the test. The run ends after 60 s
// whatever happens.
func load(t *testing.T, get func(ctx context.Context) (int, error)) map[int]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
		work     = make(chan struct{}, scrapes)
	)
	for range scrapes {
		work <- struct{}{}
	}
	close(work)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if ctx.Err() != nil {
					return
				}
				code, err := get(ctx)
				mu.Lock()
				if err != nil {
					statuses[-1]++
					if statuses[-1] == 1 {
						t.Errorf("request failed: %v", err)
					}
				} else {
					statuses[code]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("%d scrapes from %d clients did not finish within 60 s: %v", scrapes, clients, statuses)
	}
	t.Logf("%d scrapes from %d clients in %s: %v", scrapes, clients, time.Since(start).Round(time.Millisecond), statuses)
	return statuses
}

// scrapeOK gets path and reports the status; a 200 must carry the metrics.
func scrapeOK(c *http.Client, url, user, pass string) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return 0, err
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode == 200 && !strings.Contains(string(body), `officescan_scrape_collector_success{collector="dbserver"} 1`) {
			return 0, fmt.Errorf("200 without a successful dbserver collector:\n%.500s", body)
		}
		return resp.StatusCode, nil
	}
}

// selfMetrics reads the exporter's own goroutine count and heap in use.
func selfMetrics(t *testing.T, get func(ctx context.Context) (string, error)) (goroutines, heap float64) {
	t.Helper()
	body, err := get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(body, "\n") {
		var v float64
		if _, err := fmt.Sscanf(line, "go_goroutines %g", &v); err == nil {
			goroutines = v
		}
		if _, err := fmt.Sscanf(line, "go_memstats_heap_inuse_bytes %g", &v); err == nil {
			heap = v
		}
	}
	if goroutines == 0 || heap == 0 {
		t.Fatalf("no go_goroutines or go_memstats_heap_inuse_bytes in:\n%.1000s", body)
	}
	return goroutines, heap
}

func bodyGetter(c *http.Client, url, user, pass string) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return "", err
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
}

// backToBaseline waits until the exporter's goroutines and heap are back near
// what they were before the load, once the clients have closed their
// connections: leaked goroutines or buffers would keep them up.
func backToBaseline(t *testing.T, get func(ctx context.Context) (string, error), closeIdle func(), g0, h0 float64) {
	t.Helper()
	closeIdle()
	const goroutineSlack, heapSlack = 5, 16 << 20
	var g, h float64
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, h = selfMetrics(t, get)
		closeIdle()
		if g <= g0+goroutineSlack && h <= h0+heapSlack {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the load: %v goroutines (before %v), heap in use %.1f MiB (before %.1f MiB)", g, g0, h/(1<<20), h0/(1<<20))
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("goroutines %v -> %v, heap in use %.1f -> %.1f MiB", g0, g, h0/(1<<20), h/(1<<20))
}

// TestLoadAllAnswer200AndNothingLeaks: 1,000 scrapes from 50 parallel clients
// on 127.0.0.1, over plain HTTP and over TLS with basic auth, all answer 200
// with every collector's result; afterwards the exporter's goroutines and heap
// return to where they were.
func TestLoadAllAnswer200AndNothingLeaks(t *testing.T) {
	e2eutil.Require(t)
	e2eutil.FakeProcess(t, "DbServer.exe", false)
	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	// More concurrent scrapes allowed than there are clients: this run is
	// about answering all of them (TestMaxRequestsAnswers503UnderLoad is
	// about the limit).
	args := append(srv.Args(), "--web.max-requests=0")

	t.Run("plain HTTP", func(t *testing.T) {
		e := e2eutil.StartExporter(t, args...)
		tr := &http.Transport{MaxIdleConnsPerHost: clients}
		c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
		get := bodyGetter(c, e.URL+"/metrics", "", "")
		for range 20 { // warm up before the baseline
			get(context.Background())
		}
		g0, h0 := selfMetrics(t, get)
		statuses := load(t, scrapeOK(c, e.URL+"/metrics", "", ""))
		if statuses[200] != scrapes {
			t.Fatalf("want all %d scrapes answered 200: %v", scrapes, statuses)
		}
		backToBaseline(t, get, tr.CloseIdleConnections, g0, h0)
	})
	t.Run("TLS and basic auth", func(t *testing.T) {
		url, c := tlsExporter(t, args...)
		get := bodyGetter(c, url+"/metrics", user, password)
		for range 20 {
			get(context.Background())
		}
		g0, h0 := selfMetrics(t, get)
		statuses := load(t, scrapeOK(c, url+"/metrics", user, password))
		if statuses[200] != scrapes {
			t.Fatalf("want all %d scrapes answered 200: %v", scrapes, statuses)
		}
		backToBaseline(t, get, c.Transport.(*http.Transport).CloseIdleConnections, g0, h0)
	})
}

// TestMaxRequestsAnswers503UnderLoad: with --web.max-requests=1, 50 parallel
// clients get 200 or 503 and nothing else (no reset connection, no crash),
// and the exporter answers normally afterwards.
func TestMaxRequestsAnswers503UnderLoad(t *testing.T) {
	e2eutil.Require(t)
	srv := fixture.New(t, fixture.AllGood, fixture.Options{})
	e := e2eutil.StartExporter(t, append(srv.Args(), "--web.max-requests=1")...)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	statuses := load(t, func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/metrics", nil)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 503 && !strings.Contains(string(body), "--web.max-requests") {
			return 0, fmt.Errorf("503 without the reason: %q", body)
		}
		return resp.StatusCode, nil
	})
	if statuses[200]+statuses[503] != scrapes || statuses[503] == 0 || statuses[200] == 0 {
		t.Fatalf("want only 200 and 503, some of each: %v", statuses)
	}
	if e.Cmd.ProcessState != nil {
		t.Fatalf("exporter exited: %v", e.Cmd.ProcessState)
	}
	e2eutil.Get(t, e.URL+"/metrics")
}
