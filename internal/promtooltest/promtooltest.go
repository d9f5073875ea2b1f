// Package promtooltest holds the parts of promtool's rule unit-test file
// format that this project's tests write: the rules' scenarios, the Go
// verdict's comparison with Prometheus, and the dashboard's history queries
// all describe their cases in it and run the real promtool on the file.
package promtooltest

// File is a `promtool test rules` file.
type File struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	Tests              []Group  `yaml:"tests"`
}

// Group is one test group: input series and what to expect of them.
type Group struct {
	Name        string      `yaml:"name,omitempty"`
	Interval    string      `yaml:"interval"`
	InputSeries []Series    `yaml:"input_series"`
	PromQL      []Expr      `yaml:"promql_expr_test,omitempty"`
	Alerts      []AlertTest `yaml:"alert_rule_test,omitempty"`
}

// Series is one input series in promtool's notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// Expr is an expression evaluated at one time. ExpSamples has no omitempty:
// an empty list asserts that the expression returns nothing.
type Expr struct {
	Expr       string   `yaml:"expr"`
	EvalTime   string   `yaml:"eval_time"`
	ExpSamples []Sample `yaml:"exp_samples"`
}

// Sample is one expected sample.
type Sample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// AlertTest is the alerts expected to fire at one time.
type AlertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is one expected alert.
type ExpAlert struct {
	Labels      map[string]string `yaml:"exp_labels"`
	Annotations map[string]string `yaml:"exp_annotations"`
}
