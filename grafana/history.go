package grafana

import (
	"fmt"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// When is the upgrade window usually open? The heatmaps below read
// officescan:upgrade_window_safe:avg1h, which the rules' officescan.history
// group records once an hour per target: the share of the previous clock
// hour (UTC) its verdict read safe. Each heatmap is one instant query that
// returns a cell per day of the week and hour of the day, the average of
// that hour over the last historyWeeks weeks, and Grafana's "grouping to
// matrix" transformation lays the cells out as hours (rows) by days
// (columns).
//
// The query computes each sample's day and hour itself: a subquery steps
// through the weeks hour by hour, and at each whole hour t the newest
// hourly share written in [t-1h, t) is the share of the hour that began at
// t-2h (the rule writes it at the hour plus its group's offset).
// day_of_week() and hour() of that time, shifted by the UTC offset picked
// in the dashboard, become the labels day and hour through count_values:
// PromQL cannot read a sample's time inside a range, but a subquery's steps
// are times it knows. The servers are averaged before the labels are
// added, so the cost is one pass over the hourly shares whatever the
// number of servers (docs/scaling.md has the numbers and the other
// methods weighed).

const (
	recSafeHourly = "officescan:upgrade_window_safe:avg1h"
	// historyWeeks is how many weeks the heatmaps average: a week's own
	// accidents weigh a quarter. Prometheus must keep that much.
	historyWeeks = 4
	// utcOffsetVar shifts the heatmaps' days and hours from UTC, in
	// minutes (Prometheus' day_of_week() and hour() are UTC).
	utcOffsetVar = "utc_offset"
	// The labels of a heatmap cell.
	dayLabel  = "day"
	hourLabel = "hour"
)

// seconds writes d in whole seconds, for PromQL arithmetic on time().
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// windowHistoryExpr averages, per day of the week and hour of the day, the
// hourly shares of the series sel selects over the last historyWeeks weeks.
func windowHistoryExpr(sel string) string {
	// The hour a step's share describes began two hours before the step,
	// shifted into the picked zone.
	at := fmt.Sprintf("time() - %d + 60 * $%s", seconds(2*time.Hour), utcOffsetVar)
	return fmt.Sprintf(`avg_over_time(
  (
    avg(last_over_time(%s[1h] offset 1ms))
    * on () group_left (%[3]s, %[4]s)
    label_replace(
      count_values("%[3]s", day_of_week(vector(%[2]s)))
      * on () group_left (%[4]s)
      count_values("%[4]s", hour(vector(%[2]s))),
      "%[4]s", "0$1", "%[4]s", "([0-9])"
    )
  )[%[5]dw:1h]
)`, sel, at, dayLabel, hourLabel, historyWeeks)
}

// weekdays are the heatmap's columns, Monday first; day_of_week() counts
// from Sunday (0).
func weekdays() (order []string, rename map[string]string) {
	rename = map[string]string{}
	for i := 0; i < 7; i++ {
		d := time.Weekday((i + 1) % 7)
		order = append(order, fmt.Sprint(int(d)))
		rename[fmt.Sprint(int(d))] = d.String()[:3]
	}
	return order, rename
}

// matrixRowField is the first column "grouping to matrix" writes: the row
// field's name, a backslash, the column field's name.
var matrixRowField = hourLabel + `\` + dayLabel

func (g gen) windowHeatmap(title, description, sel string) *table.PanelBuilder {
	days, rename := weekdays()
	rename[matrixRowField] = "Hour"
	return newTable().
		Title(title).
		Description(description).
		WithTarget(instantQuery("A", windowHistoryExpr(sel), "")).
		Unit("percentunit").Decimals(0).Min(0).Max(1).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdContinuousRdYlGr)).
		Thresholds(thresholds("red", step{1, "green"})).
		NoValue(fmt.Sprintf("No history yet: %s is recorded once an hour by the rules' officescan.history group", recSafeHourly)).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{Type: common.TableCellDisplayModeColorBackground}}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "groupingToMatrix",
			Options: map[string]any{
				"columnField": dayLabel,
				"rowField":    hourLabel,
				"valueField":  "Value",
				"emptyValue":  "null",
			},
		}).
		WithTransformation(organize(nil, rename, append([]string{matrixRowField}, days...))).
		OverrideByName(matrixRowField, []dashboard.DynamicConfigValue{
			{Id: "custom.cellOptions", Value: common.TableAutoCellOptions{Type: "auto"}},
			{Id: "custom.width", Value: 60},
		}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Hour"),
		})
}

func (g gen) historyDescription(who string) string {
	return fmt.Sprintf("When is the upgrade window usually open? %s: each cell is the share of that hour of the week during which the verdict (officescan:upgrade_window_safe) read SAFE, "+
		"averaged over the last %d weeks: green cells are hours that are usually open, the best time to plan an upgrade. "+
		"Hours and days are in the zone of the \"Hours in\" picker, a fixed offset from UTC (pick the other offset when daylight saving time changes). "+
		"From %s, the share of each clock hour that the rules' officescan.history group records once an hour; Prometheus must keep %d weeks of it (--storage.tsdb.retention.time). "+
		"An hour without any verdict recorded (Prometheus down) counts for nothing; empty cells have no history yet. Not affected by the dashboard's time range.",
		who, historyWeeks, recSafeHourly, historyWeeks)
}

// fleetHistoryPanel is the heatmap of every server of the selector.
func (g gen) fleetHistoryPanel() *table.PanelBuilder {
	return g.windowHeatmap(g.title(noHazard, "When the window is usually open: all servers (${"+utcOffsetVar+":text})"),
		g.historyDescription("All servers (the Server picker does not apply), averaged"),
		g.fleetSel(recSafeHourly)).
		Span(12).Height(12)
}

// serverHistoryPanel is the heatmap of the servers picked.
func (g gen) serverHistoryPanel() *table.PanelBuilder {
	return g.windowHeatmap(g.title(noHazard, "When the window is usually open: $"+instanceVar+" (${"+utcOffsetVar+":text})"),
		g.historyDescription("The servers picked in the Server picker (pick one to see that server's own; several are averaged)"),
		g.sel(recSafeHourly)).
		Span(12).Height(12)
}

// utcOffsets are the picker's choices, in minutes: whole hours from UTC-12
// to UTC+14 and the half- and three-quarter-hour zones in use.
func utcOffsets() []int {
	var out []int
	for h := -12; h <= 14; h++ {
		out = append(out, h*60)
	}
	for _, m := range []int{-9*60 - 30, -3*60 - 30, 3*60 + 30, 4*60 + 30, 5*60 + 30, 5*60 + 45, 6*60 + 30, 8*60 + 45, 9*60 + 30, 10*60 + 30, 12*60 + 45, 13*60 + 45} {
		out = append(out, m)
	}
	// In order, UTC first among equals.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// utcOffsetText names an offset in minutes: UTC, UTC+1, UTC-3:30.
func utcOffsetText(m int) string {
	if m == 0 {
		return "UTC"
	}
	sign := "+"
	if m < 0 {
		sign, m = "-", -m
	}
	if m%60 == 0 {
		return fmt.Sprintf("UTC%s%d", sign, m/60)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, m/60, m%60)
}

// utcOffsetVariable picks the zone of the heatmaps' hours.
func utcOffsetVariable() *dashboard.CustomVariableBuilder {
	var query string
	var options []dashboard.VariableOption
	for i, m := range utcOffsets() {
		if i > 0 {
			query += ","
		}
		text, value := utcOffsetText(m), fmt.Sprint(m)
		query += text + " : " + value
		options = append(options, dashboard.VariableOption{
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(text)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
			Selected: cog.ToPtr(m == 0),
		})
	}
	return dashboard.NewCustomVariableBuilder(utcOffsetVar).
		Label("Hours in").
		Description("The zone of the \"When the window is usually open\" heatmaps' days and hours: a fixed offset from UTC (Prometheus computes days and hours in UTC).").
		Values(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Options(options).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(utcOffsetText(0))},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("0")},
		})
}
