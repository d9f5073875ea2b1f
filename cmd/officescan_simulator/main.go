// Command officescan_simulator imitates an OfficeScan server for the demo:
// a PCCSRV folder, DbServer.exe and AutoPcc.exe processes on request, and a
// webhook receiver for Alertmanager. It only wires the simulator package.
//
//	officescan_simulator run --dir=DIR --control.listen=127.0.0.1:9799 --webhook.listen=127.0.0.1:9798
//	officescan_simulator set --control=http://127.0.0.1:9799 database=busy login_scripts=2
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"

	"github.com/officescan-exporter/officescan_exporter/simulator"
)

func main() {
	app := kingpin.New("officescan_simulator", "Imitates an OfficeScan server for the officescan_exporter demo.")
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)

	run := app.Command("run", "Run the simulated server until interrupted.")
	dir := run.Flag("dir", "Folder for the simulated PCCSRV folder and the exporter config.").Required().String()
	fakeproc := run.Flag("fakeproc", "The fake process program (tools/fakeproc); default: fakeproc beside this program.").String()
	controlAddr := run.Flag("control.listen", "Address of the control endpoint.").Default("127.0.0.1:9799").String()
	webhookAddr := run.Flag("webhook.listen", "Address of the Alertmanager webhook receiver.").Default("127.0.0.1:9798").String()
	database := run.Flag("database", "Initial database state: idle, busy or stopped.").Default("idle").String()

	set := app.Command("set", "Change the running simulated server: database=idle|busy|stopped, login_scripts=N, SETTING=0|1.")
	control := set.Flag("control", "URL of the control endpoint.").Default("http://127.0.0.1:9799").String()
	changes := set.Arg("change", "KEY=VALUE").Required().Strings()

	stack := app.Command("stack-config", "Write the demo's prometheus.yml, rules (shortened `for`) and alertmanager.yml.")
	stackCfg := simulator.StackConfig{}
	stack.Flag("dir", "Folder to write into.").Required().StringVar(&stackCfg.Dir)
	stack.Flag("exporter", "host:port of the exporter.").Default("127.0.0.1:9745").StringVar(&stackCfg.Exporter)
	stack.Flag("alertmanager", "host:port of Alertmanager.").Default("127.0.0.1:9093").StringVar(&stackCfg.Alertmanager)
	stack.Flag("webhook", "Base URL of the webhook receiver.").Default("http://127.0.0.1:9798").StringVar(&stackCfg.Webhook)
	stack.Flag("example", "The shipped Alertmanager example.").Default("alerts/alertmanager.yml").StringVar(&stackCfg.ExampleAlertmanager)

	scenario := app.Command("scenario", "Walk through the demo scenario against a running stack.")
	sc := simulator.Scenario{Out: os.Stdout}
	scenario.Flag("prometheus", "Prometheus base URL.").Default("http://127.0.0.1:9090").StringVar(&sc.Prometheus)
	scenario.Flag("control", "Simulator control URL.").Default("http://127.0.0.1:9799").StringVar(&sc.Control)
	scenario.Flag("webhook", "Webhook receiver URL.").Default("http://127.0.0.1:9798").StringVar(&sc.Webhook)
	scenario.Flag("steps", "Run only the first N steps (0: all).").IntVar(&sc.Steps)

	cmd := kingpin.MustParse(app.Parse(os.Args[1:]))
	logger := promslog.New(logCfg)
	var err error
	switch cmd {
	case run.FullCommand():
		err = serve(logger, *dir, *fakeproc, *controlAddr, *webhookAddr, *database)
	case set.FullCommand():
		err = post(*control, *changes)
	case stack.FullCommand():
		err = simulator.WriteStack(stackCfg)
	case scenario.FullCommand():
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = sc.Run(ctx)
	}
	if err != nil {
		logger.Error("officescan_simulator failed", "err", err)
		os.Exit(1)
	}
}

func serve(logger *slog.Logger, dir, fakeproc, controlAddr, webhookAddr, database string) error {
	if fakeproc == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		fakeproc = filepath.Join(filepath.Dir(self), "fakeproc")
	}
	server := filepath.Join(dir, "PCCSRV")
	c, err := simulator.NewController(server, fakeproc, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	cfgPath := filepath.Join(dir, "officescan_exporter.yml")
	if err := simulator.WriteConfig(cfgPath, server); err != nil {
		return err
	}
	if err := c.Apply(simulator.State{Database: database, Settings: simulator.Clear()}); err != nil {
		return err
	}
	logger.Info("simulated OfficeScan server ready", "pccsrv", server, "exporter_config", cfgPath, "control", "http://"+controlAddr, "webhook", "http://"+webhookAddr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	servers := []*http.Server{
		{Addr: controlAddr, Handler: c, ReadHeaderTimeout: 5 * time.Second},
		{Addr: webhookAddr, Handler: simulator.NewReceiver(logger), ReadHeaderTimeout: 5 * time.Second},
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.ListenAndServe() }()
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	for _, s := range servers {
		_ = s.Close()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func post(control string, changes []string) error {
	form := url.Values{}
	for _, ch := range changes {
		k, v, ok := strings.Cut(ch, "=")
		if !ok {
			return fmt.Errorf("%q: want KEY=VALUE", ch)
		}
		form.Set(k, v)
	}
	resp, err := http.PostForm(control, form)
	if err != nil {
		return fmt.Errorf("reaching the simulator at %s: %w", control, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulator refused %v: %s", changes, strings.TrimSpace(string(body)))
	}
	_, err = os.Stdout.Write(body)
	return err
}
