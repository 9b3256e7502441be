({
    // recordId and sObjectName are empty on the Home page and in the utility bar outside a record;
    // Quotaflow then shows the viewer's own earnings instead of a deal.
    doInit: function (component) {
        component.set("v.parameters", JSON.stringify({
            recordId: component.get("v.recordId") || "",
            sObjectName: component.get("v.sObjectName") || ""
        }));
    }
})
